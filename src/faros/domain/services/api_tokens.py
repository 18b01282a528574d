"""Personal access tokens: make one (its secret shown once), list them, revoke one."""

from __future__ import annotations

from dataclasses import replace

from faros.domain import api_tokens
from faros.domain.api_tokens import ApiToken, CreatedToken, NewApiToken, Scope
from faros.domain.errors import Conflict, FieldInvalid, NotFound
from faros.domain.idempotency import IdempotentReplay
from faros.domain.services.idempotency import IdempotentCall, claim_key, keep_answer
from faros.domain.users import User
from faros.ports.clock import Clock
from faros.ports.unit_of_work import UnitOfWorkFactory

TOKEN_NOT_FOUND = "Token not found"  # noqa: S105 - an error text


class ApiTokenService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, derivation_key: bytes) -> None:
        """`derivation_key`: the server's key for the secrets of tokens made under an
        `Idempotency-Key` (`api_tokens.derivation_key`), never stored."""
        self._uow = uow
        self._clock = clock
        self._derivation_key = derivation_key

    def _derive(self, caller: User, call: IdempotentCall[CreatedToken], placeholder: str) -> str:
        return api_tokens.derived_secret(
            self._derivation_key, caller.id, call.key, call.fingerprint(), placeholder
        )

    def _with_secret(
        self, caller: User, call: IdempotentCall[CreatedToken] | None, replay: IdempotentReplay
    ) -> IdempotentReplay:
        """The replay of a kept answer, its secret re-derived in place of the placeholder."""
        if call is None:  # claim_key replays only under a key
            return replay
        kept = replay.response
        body = api_tokens.with_secret(kept.body, lambda nonce: self._derive(caller, call, nonce))
        return IdempotentReplay(replace(kept, body=body))

    async def create(
        self,
        caller: User,
        name: str,
        scopes: list[Scope],
        expires_in_days: int,
        idempotency: IdempotentCall[CreatedToken] | None = None,
    ) -> CreatedToken:
        """Under an `Idempotency-Key` the secret is derived, not drawn, and the kept answer
        holds a placeholder instead (domain/api_tokens.py): a replay re-derives it."""
        now = self._clock.now()
        try:
            expires_at = api_tokens.expiry(now, expires_in_days)
        except ValueError as error:
            raise FieldInvalid(("body", "expires_in_days"), str(error), expires_in_days) from None
        granted = api_tokens.canonical_scopes(scopes)
        if not granted:
            raise FieldInvalid(("body", "scopes"), "At least one scope is required", scopes)
        placeholder = api_tokens.new_placeholder()
        if idempotency is None:
            secret = api_tokens.new_secret()
        else:
            secret = self._derive(caller, idempotency, placeholder)
        async with self._uow() as uow:
            try:
                await claim_key(uow, caller.id, idempotency, now)
            except IdempotentReplay as replay:
                raise self._with_secret(caller, idempotency, replay) from None
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
            # The kept answer never holds the secret: its placeholder stands in.
            await keep_answer(uow, caller.id, idempotency, CreatedToken(token, placeholder), now)
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
