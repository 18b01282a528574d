"""Users and the deny-list of revoked tokens."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from faros.adapters.memory.store import Transaction, utc, valid_id
from faros.domain.errors import DuplicateUser
from faros.domain.users import NewUser, User, UserRef


def _copy(user: User | None) -> User | None:
    return None if user is None else replace(user)


class MemoryUserRepository:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx
        self._db = tx.store

    async def add(self, user: NewUser) -> User:
        # Like the PostgreSQL adapter: a new name may not equal any existing one ignoring case
        # (a scan: registrations are rare, and names already stored differ only in case may
        # stay, so no index of folded names could be unique).
        folded = user.username.lower()
        if any(name.lower() == folded for name in self._db.user_by_username):
            raise DuplicateUser("username", user.username)
        if user.email.lower() in self._db.user_by_email:
            raise DuplicateUser("email", user.email)
        stored = User(
            id=self._db.next_id("users"),
            username=user.username,
            email=user.email,
            hashed_password=user.hashed_password,
            created_at=utc(user.created_at),
        )
        self._tx.put(self._db.users, stored.id, stored)
        self._tx.put(self._db.user_by_username, stored.username, stored.id)
        self._tx.put(self._db.user_by_email, stored.email.lower(), stored.id)
        return replace(stored)

    async def get(self, user_id: int) -> User | None:
        return _copy(self._db.users.get(user_id)) if valid_id(user_id) else None

    async def lock(self, user_id: int) -> User | None:
        # Units of work on a memory store run one at a time, so a read is already exclusive.
        return await self.get(user_id)

    async def by_username(self, username: str) -> User | None:
        user_id = self._db.user_by_username.get(username)
        return None if user_id is None else _copy(self._db.users[user_id])

    async def token_holder(self, username: str, jti: str) -> tuple[User, bool] | None:
        user = await self.by_username(username)
        return None if user is None else (user, jti in self._db.revoked_tokens)

    async def by_email(self, email: str) -> User | None:
        user_id = self._db.user_by_email.get(email.lower())
        return None if user_id is None else _copy(self._db.users[user_id])

    async def by_verification_code(self, code_hash: str) -> User | None:
        return self._first(lambda user: user.verification_code_hash == code_hash)

    async def by_reset_token(self, token_hash: str) -> User | None:
        return self._first(lambda user: user.reset_token_hash == token_hash)

    def _first(self, matches: Callable[[User], bool]) -> User | None:
        found = (user for user in self._db.users.values() if matches(user))
        return _copy(next(found, None))

    async def update(self, user: User) -> None:
        old = self._db.users.get(user.id)
        if old is None:
            return
        # Like the unique indexes: an update may not take another account's name or address.
        changes = (
            (self._db.user_by_username, old.username, user.username, "username"),
            (self._db.user_by_email, old.email.lower(), user.email.lower(), "email"),
        )
        for index, _, new_key, column in changes:
            if index.get(new_key, user.id) != user.id:
                raise DuplicateUser(column, getattr(user, column))
        for index, old_key, new_key, _ in changes:
            if new_key != old_key:
                self._tx.remove(index, old_key)
                self._tx.put(index, new_key, user.id)
        self._tx.put(self._db.users, user.id, replace(user, created_at=utc(user.created_at)))

    async def search(self, text: str, exclude_id: int, limit: int) -> list[UserRef]:
        needle = text.lower()
        found = sorted(
            (user.username, user.id)
            for user in self._db.users.values()
            if user.id != exclude_id and needle in user.username.lower()
        )
        return [UserRef(user_id, username) for username, user_id in found[: max(limit, 0)]]


class MemoryRevokedTokenRepository:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx
        self._db = tx.store

    async def add(self, jti: str, expires_at: datetime) -> None:
        if jti not in self._db.revoked_tokens:
            self._tx.put(self._db.revoked_tokens, jti, utc(expires_at))

    async def purge_expired(self, now: datetime) -> int:
        # A token is void from its expiry instant on (JWT `exp`), so that instant purges it too.
        expired = [jti for jti, expires in self._db.revoked_tokens.items() if expires <= now]
        for jti in expired:
            self._tx.remove(self._db.revoked_tokens, jti)
        return len(expired)
