"""Personal access tokens: make one (its secret shown once), list them, revoke one."""

from __future__ import annotations

from faros.domain import api_tokens
from faros.domain.api_tokens import ApiToken, CreatedToken, NewApiToken, Scope
from faros.domain.errors import Conflict, FieldInvalid, NotFound
from faros.domain.users import User
from faros.ports.clock import Clock
from faros.ports.unit_of_work import UnitOfWorkFactory

TOKEN_NOT_FOUND = "Token not found"  # noqa: S105 - an error text


class ApiTokenService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def create(
        self, caller: User, name: str, scopes: list[Scope], expires_in_days: int
    ) -> CreatedToken:
        now = self._clock.now()
        try:
            expires_at = api_tokens.expiry(now, expires_in_days)
        except ValueError as error:
            raise FieldInvalid(("body", "expires_in_days"), str(error), expires_in_days) from None
        granted = api_tokens.canonical_scopes(scopes)
        if not granted:
            raise FieldInvalid(("body", "scopes"), "At least one scope is required", scopes)
        secret = api_tokens.new_secret()
        async with self._uow() as uow:
            # Bounds what one account can pile up; the user's row is locked so that two
            # concurrent creations cannot both pass the count.
            await uow.users.lock(caller.id)
            if len(await uow.api_tokens.for_user(caller.id)) >= api_tokens.MAX_TOKENS_PER_USER:
                raise Conflict(
                    f"At most {api_tokens.MAX_TOKENS_PER_USER} access tokens per account: "
                    "revoke one first"
                )
            token = await uow.api_tokens.add(
                NewApiToken(
                    user_id=caller.id,
                    name=name,
                    scopes=granted,
                    token_hash=api_tokens.secret_hash(secret),
                    created_at=now,
                    expires_at=expires_at,
                )
            )
            await uow.commit()
        return CreatedToken(token, secret)

    async def list(self, caller: User) -> list[ApiToken]:
        async with self._uow() as uow:
            return await uow.api_tokens.for_user(caller.id)

    async def revoke(self, caller: User, token_id: int) -> None:
        """At once in this process; in the others when PostgreSQL's NOTIFY reaches them."""
        async with self._uow() as uow:
            if not await uow.api_tokens.revoke(caller.id, token_id):
                raise NotFound(TOKEN_NOT_FOUND)
            await uow.commit()
