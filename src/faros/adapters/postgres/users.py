"""Users and revoked tokens in PostgreSQL."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    DateTime,
    Row,
    String,
    bindparam,
    cast,
    delete,
    exists,
    func,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert

from faros.adapters.postgres.database import Database
from faros.adapters.postgres.query import Query
from faros.adapters.postgres.tables import revoked_tokens, users
from faros.adapters.postgres.values import (
    BIGINT_SAFE,
    LIKE_ESCAPE,
    contains_pattern,
    has_nul,
    utc,
    utc_or_none,
)
from faros.domain.errors import DuplicateUser
from faros.domain.ids import is_int32
from faros.domain.users import NewUser, User, UserRef

_u = users.c
_COLUMNS = (
    _u.id,
    _u.username,
    _u.email,
    _u.hashed_password,
    _u.created_at,
    _u.avatar_url,
    _u.email_verified,
    _u.verification_code,
    _u.verification_expires,
    _u.password_reset_token,
    _u.password_reset_token_expires,
    _u.token_version,
    _u.avatar_key,
)
_SELECT = select(*_COLUMNS)
_by_id = _SELECT.where(_u.id == bindparam("id"))
_BY_ID = Query(_by_id)
_LOCK_BY_ID = Query(_by_id.with_for_update(), transactional=True)
_BY_USERNAME = Query(_SELECT.where(_u.username == bindparam("username")))
# Authentication's one read: the user and the token's deny-list entry together.
_TOKEN_HOLDER = Query(
    select(
        *_COLUMNS,
        exists().where(revoked_tokens.c.jti == bindparam("jti")).label("revoked"),
    ).where(_u.username == bindparam("username"))
)
# Matches the unique index on lower(email), so the lookup is an index probe.
_BY_EMAIL = Query(_SELECT.where(func.lower(_u.email) == func.lower(bindparam("email"))))
_BY_VERIFICATION = Query(_SELECT.where(_u.verification_code == bindparam("code")))
_BY_RESET = Query(_SELECT.where(_u.password_reset_token == bindparam("token")))
# A new username must differ from every existing one ignoring case, but databases of the
# original FAROS may already hold names that differ only in case, so lower(username) cannot
# have a unique index (its migration would fail on them). Registrations of one lower-cased name
# are serialised instead, by a transaction-scoped advisory lock taken before the insert looks
# for a clash: the second of "bob" and "BOB" waits for the first to commit and then, in the
# fresh snapshot of its next statement (READ COMMITTED), sees its row.
_USERNAME_LOCK_SPACE = 0x75736572  # "user": the first key of the two-key advisory locks
_LOCK_USERNAME = Query(
    select(
        func.pg_advisory_xact_lock(
            literal(_USERNAME_LOCK_SPACE), func.hashtext(func.lower(bindparam("username")))
        )
    ),
    transactional=True,
)
_SAME_NAME_IGNORING_CASE = func.lower(_u.username) == func.lower(bindparam("username"))
# DO NOTHING without a target covers the username, e-mail and lower(email) indexes alike, and
# leaves the transaction usable (a unique violation would abort it). A concurrent insert of
# the same values is waited for: it commits (we get no row) or rolls back (we insert).
# Unlengthed casts: a value too long for its column fails as a plain insert would, never cut.
_INSERT = Query(
    insert(users)
    .from_select(
        ["username", "email", "hashed_password", "created_at"],
        select(
            cast(bindparam("username"), String()),
            cast(bindparam("email"), String()),
            cast(bindparam("hashed_password"), String()),
            cast(bindparam("created_at"), DateTime(timezone=True)),
        ).where(~exists().where(_SAME_NAME_IGNORING_CASE)),
    )
    .on_conflict_do_nothing()
    .returning(*_COLUMNS),
    transactional=True,
)
_CLASH = Query(
    select(
        func.bool_or(_SAME_NAME_IGNORING_CASE).label("username"),
        func.bool_or(func.lower(_u.email) == func.lower(bindparam("email"))).label("email"),
    ).where(
        or_(
            _SAME_NAME_IGNORING_CASE,
            func.lower(_u.email) == func.lower(bindparam("email")),
        )
    )
)
_UPDATE = Query(
    update(users)
    .where(_u.id == bindparam("user_id"))
    .values(
        username=bindparam("username"),
        email=bindparam("email"),
        hashed_password=bindparam("hashed_password"),
        avatar_url=bindparam("avatar_url"),
        email_verified=bindparam("email_verified"),
        verification_code=bindparam("verification_code"),
        verification_expires=bindparam("verification_expires"),
        password_reset_token=bindparam("password_reset_token"),
        password_reset_token_expires=bindparam("password_reset_token_expires"),
        token_version=bindparam("token_version"),
        avatar_key=bindparam("avatar_key"),
    ),
    transactional=True,
)
_SEARCH = Query(
    select(_u.id, _u.username)
    .where(
        _u.username.ilike(bindparam("pattern"), escape=LIKE_ESCAPE),
        _u.id != bindparam("exclude_id"),
    )
    .order_by(_u.username)
    .limit(bindparam("limit"))
)


def user_from_row(row: Row[Any]) -> User:
    return User(
        id=row.id,
        username=row.username,
        email=row.email,
        hashed_password=row.hashed_password,
        created_at=utc(row.created_at),
        avatar_url=row.avatar_url,
        email_verified=row.email_verified,
        verification_code_hash=row.verification_code,
        verification_expires=utc_or_none(row.verification_expires),
        reset_token_hash=row.password_reset_token,
        reset_token_expires=utc_or_none(row.password_reset_token_expires),
        token_version=row.token_version,
        avatar_key=row.avatar_key,
    )


class PostgresUserRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def _one(self, query: Query, params: dict[str, Any]) -> User | None:
        rows = await self._db.execute(query, params)
        return user_from_row(rows[0]) if rows else None

    async def add(self, user: NewUser) -> User:
        values = {
            "username": user.username,
            "email": user.email,
            "hashed_password": user.hashed_password,
            "created_at": user.created_at,
        }
        await self._db.execute(_LOCK_USERNAME, {"username": user.username})
        rows = await self._db.execute(_INSERT, values)
        if rows:
            return user_from_row(rows[0])
        params = {"username": user.username, "email": user.email}
        clash = (await self._db.execute(_CLASH, params))[0]
        # Username first when both clash; a row gone again since is reported as a username
        # clash too rather than retried: the caller answers 409 either way.
        if clash.email and not clash.username:
            raise DuplicateUser("email", user.email)
        raise DuplicateUser("username", user.username)

    async def get(self, user_id: int) -> User | None:
        if not is_int32(user_id):
            return None
        return await self._one(_BY_ID, {"id": user_id})

    async def lock(self, user_id: int) -> User | None:
        if not is_int32(user_id):
            return None
        return await self._one(_LOCK_BY_ID, {"id": user_id})

    async def by_username(self, username: str) -> User | None:
        if has_nul(username):
            return None
        return await self._one(_BY_USERNAME, {"username": username})

    async def token_holder(self, username: str, jti: str) -> tuple[User, bool] | None:
        if has_nul(jti):  # cannot be on the deny-list (nor be sent: text holds no NUL)
            user = await self.by_username(username)
            return None if user is None else (user, False)
        if has_nul(username):
            return None
        cache = self._db.auth_cache
        params = {"username": username, "jti": jti}
        if cache is None:
            rows = await self._db.execute(_TOKEN_HOLDER, params)
            return (user_from_row(rows[0]), bool(rows[0].revoked)) if rows else None
        known = cache.get(username, jti)
        if known is not None:
            return known, False
        generation = cache.generation
        rows = await self._db.execute(_TOKEN_HOLDER, params)
        if not rows:
            return None
        user, revoked = user_from_row(rows[0]), bool(rows[0].revoked)
        if not revoked:
            cache.put(username, jti, user, generation)
        return user, revoked

    async def by_email(self, email: str) -> User | None:
        if has_nul(email):
            return None
        return await self._one(_BY_EMAIL, {"email": email})

    async def by_verification_code(self, code_hash: str) -> User | None:
        if has_nul(code_hash):
            return None
        return await self._one(_BY_VERIFICATION, {"code": code_hash})

    async def by_reset_token(self, token_hash: str) -> User | None:
        if has_nul(token_hash):
            return None
        return await self._one(_BY_RESET, {"token": token_hash})

    async def update(self, user: User) -> None:
        self._db.auth_changed = True
        await self._db.execute(
            _UPDATE,
            {
                "user_id": user.id,
                "username": user.username,
                "email": user.email,
                "hashed_password": user.hashed_password,
                "avatar_url": user.avatar_url,
                "email_verified": user.email_verified,
                "verification_code": user.verification_code_hash,
                "verification_expires": user.verification_expires,
                "password_reset_token": user.reset_token_hash,
                "password_reset_token_expires": user.reset_token_expires,
                "token_version": user.token_version,
                "avatar_key": user.avatar_key,
            },
        )

    async def search(self, text: str, exclude_id: int, limit: int) -> list[UserRef]:
        if limit <= 0 or has_nul(text):
            return []
        params = {
            "pattern": contains_pattern(text),
            "exclude_id": exclude_id if is_int32(exclude_id) else 0,
            "limit": min(limit, BIGINT_SAFE),
        }
        rows = await self._db.execute(_SEARCH, params)
        return [UserRef(row.id, row.username) for row in rows]


_REVOKE = Query(
    insert(revoked_tokens)
    .values(jti=bindparam("jti"), expires_at=bindparam("expires_at"))
    .on_conflict_do_nothing(index_elements=["jti"]),
    transactional=True,
)
_purged = (
    delete(revoked_tokens)
    .where(revoked_tokens.c.expires_at <= bindparam("now"))
    .returning(revoked_tokens.c.jti)
    .cte("purged")
)
_PURGE = Query(select(func.count().label("n")).select_from(_purged), transactional=True)


class PostgresRevokedTokenRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, jti: str, expires_at: datetime) -> None:
        self._db.auth_changed = True
        await self._db.execute(_REVOKE, {"jti": jti, "expires_at": expires_at})

    async def purge_expired(self, now: datetime) -> int:
        return int((await self._db.execute(_PURGE, {"now": now}))[0].n)
