"""Personal access tokens, by id and by the digest of their secret."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from faros.adapters.memory.store import Transaction, utc, valid_id
from faros.domain.api_tokens import ApiToken, NewApiToken
from faros.domain.users import User


class MemoryApiTokenRepository:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx
        self._db = tx.store

    async def add(self, token: NewApiToken) -> ApiToken:
        stored = ApiToken(
            id=self._db.next_id("api_tokens"),
            user_id=token.user_id,
            name=token.name,
            scopes=tuple(token.scopes),
            token_hash=token.token_hash,
            created_at=utc(token.created_at),
            expires_at=utc(token.expires_at),
        )
        self._tx.put(self._db.api_tokens, stored.id, stored)
        self._tx.put(self._db.api_token_by_hash, stored.token_hash, stored.id)
        return stored

    async def for_user(self, user_id: int) -> list[ApiToken]:
        mine = [token for token in self._db.api_tokens.values() if token.user_id == user_id]
        return sorted(mine, key=lambda token: token.id, reverse=True)

    async def holder(self, token_hash: str) -> tuple[User, ApiToken] | None:
        token_id = self._db.api_token_by_hash.get(token_hash)
        if token_id is None:
            return None
        token = self._db.api_tokens[token_id]
        user = self._db.users.get(token.user_id)
        return None if user is None else (replace(user), token)

    async def revoke(self, user_id: int, token_id: int) -> bool:
        token = self._db.api_tokens.get(token_id) if valid_id(token_id) else None
        if token is None or token.user_id != user_id:
            return False
        self._drop(token)
        return True

    async def revoke_all(self, user_id: int) -> int:
        mine = [token for token in self._db.api_tokens.values() if token.user_id == user_id]
        for token in mine:
            self._drop(token)
        return len(mine)

    def _drop(self, token: ApiToken) -> None:
        self._tx.remove(self._db.api_tokens, token.id)
        self._tx.remove(self._db.api_token_by_hash, token.token_hash)

    async def touch(self, token: ApiToken, now: datetime, since: datetime) -> None:
        stored = self._db.api_tokens.get(token.id)
        if stored is None:
            return
        if stored.last_used_at is not None and stored.last_used_at > since:
            return
        self._tx.put(self._db.api_tokens, token.id, replace(stored, last_used_at=utc(now)))
