"""Personal access tokens in PostgreSQL (`faros.api_tokens`, migration 0006)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, bindparam, delete, func, insert, or_, select, update

from faros.adapters.postgres.database import Database
from faros.adapters.postgres.query import Query
from faros.adapters.postgres.tables import api_tokens, users
from faros.adapters.postgres.users import user_from_row
from faros.adapters.postgres.values import has_nul, utc, utc_or_none
from faros.domain.api_tokens import ApiToken, NewApiToken
from faros.domain.ids import is_int32
from faros.domain.users import User

_t = api_tokens.c
_COLUMNS = (
    _t.id,
    _t.user_id,
    _t.name,
    _t.scopes,
    _t.token_hash,
    _t.created_at,
    _t.expires_at,
    _t.last_used_at,
)
_ADD = Query(
    insert(api_tokens)
    .values(
        user_id=bindparam("user_id"),
        name=bindparam("name"),
        scopes=bindparam("scopes"),
        token_hash=bindparam("token_hash"),
        created_at=bindparam("created_at"),
        expires_at=bindparam("expires_at"),
    )
    .returning(*_COLUMNS),
    transactional=True,
)
_FOR_USER = Query(
    select(*_COLUMNS).where(_t.user_id == bindparam("user_id")).order_by(_t.id.desc())
)
# Authentication's one read for a token: the token and its user, labelled apart.
_HOLDER = Query(
    select(*users.c, *(column.label(f"t_{column.name}") for column in _COLUMNS))
    .join_from(api_tokens, users, users.c.id == _t.user_id)
    .where(_t.token_hash == bindparam("token_hash"))
)
_REVOKE = Query(
    delete(api_tokens)
    .where(_t.id == bindparam("token_id"), _t.user_id == bindparam("user_id"))
    .returning(_t.id),
    transactional=True,
)
_REVOKE_ALL = Query(
    select(func.count().label("n")).select_from(
        delete(api_tokens).where(_t.user_id == bindparam("user_id")).returning(_t.id).cte("revoked")
    ),
    transactional=True,
)
# Autocommit, outside any transaction: one statement, no lock held past it. Of two processes
# recording the same minute's use, the second's condition fails and it writes nothing.
_TOUCH = Query(
    update(api_tokens)
    .where(
        _t.id == bindparam("token_id"),
        or_(_t.last_used_at.is_(None), _t.last_used_at <= bindparam("since")),
    )
    .values(last_used_at=bindparam("now"))
)


def _token(row: Row[Any], prefix: str = "") -> ApiToken:
    def get(name: str) -> Any:
        return getattr(row, prefix + name)

    return ApiToken(
        id=get("id"),
        user_id=get("user_id"),
        name=get("name"),
        scopes=tuple(get("scopes")),
        token_hash=get("token_hash"),
        created_at=utc(get("created_at")),
        expires_at=utc(get("expires_at")),
        last_used_at=utc_or_none(get("last_used_at")),
    )


class PostgresApiTokenRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, token: NewApiToken) -> ApiToken:
        rows = await self._db.execute(
            _ADD,
            {
                "user_id": token.user_id,
                "name": token.name,
                "scopes": list(token.scopes),
                "token_hash": token.token_hash,
                "created_at": token.created_at,
                "expires_at": token.expires_at,
            },
        )
        return _token(rows[0])

    async def for_user(self, user_id: int) -> list[ApiToken]:
        if not is_int32(user_id):
            return []
        return [_token(row) for row in await self._db.execute(_FOR_USER, {"user_id": user_id})]

    async def holder(self, token_hash: str) -> tuple[User, ApiToken] | None:
        if has_nul(token_hash):
            return None
        cache = self._db.auth_cache
        if cache is not None:
            known = cache.get_token(token_hash)
            if known is not None:
                return known
            generation = cache.generation
        rows = await self._db.execute(_HOLDER, {"token_hash": token_hash})
        if not rows:
            return None
        found = user_from_row(rows[0]), _token(rows[0], "t_")
        if cache is not None:
            cache.put_token(token_hash, found, generation)
        return found

    async def revoke(self, user_id: int, token_id: int) -> bool:
        if not (is_int32(user_id) and is_int32(token_id)):
            return False
        self._db.auth_changed = True
        rows = await self._db.execute(_REVOKE, {"user_id": user_id, "token_id": token_id})
        return bool(rows)

    async def revoke_all(self, user_id: int) -> int:
        if not is_int32(user_id):
            return 0
        self._db.auth_changed = True
        return int((await self._db.execute(_REVOKE_ALL, {"user_id": user_id}))[0].n)

    async def touch(self, token: ApiToken, now: datetime, since: datetime) -> None:
        await self._db.execute(_TOUCH, {"token_id": token.id, "since": since, "now": now})
        cache = self._db.auth_cache
        if cache is not None:
            # What this process knows of the token moves with it, so the next request within
            # the minute does not try again.
            cache.touched_token(token.token_hash, now)
