"""Accounts: registration, login and logout, tokens, passwords, password reset, user search."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from faros.domain import api_tokens, emails, outbox
from faros.domain.api_tokens import ApiToken
from faros.domain.errors import (
    AuthenticationFailed,
    FieldInvalid,
    Invalid,
    InvalidCredentials,
)
from faros.domain.outbox import OutboxMessage
from faros.domain.services.link_tokens import (
    PASSWORD_RESET,
    new_link_token,
    redeem,
    token_hash,
)
from faros.domain.users import NewUser, User, UserRef, email_is_acceptable, username_is_acceptable
from faros.ports.clock import Clock
from faros.ports.password_hasher import PasswordHasher
from faros.ports.token_issuer import IssuedToken, TokenIssuer
from faros.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory

RESET_TOKEN_LIFETIME = timedelta(minutes=30)
INVALID_TOKEN = "Invalid or expired token"  # noqa: S105 - an error text


def by_client(address: str) -> str:
    """The hasher's turns (the `PasswordHasher` port's `caller`) of an anonymous request."""
    return f"ip_{address}"


def by_user(user: User) -> str:
    """The hasher's turns of a signed-in user's request, wherever it comes from."""
    return f"user_{user.id}"


class AccountService:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        hasher: PasswordHasher,
        tokens: TokenIssuer,
        clock: Clock,
        frontend_url: str,
    ) -> None:
        self._uow = uow
        self._hasher = hasher
        self._tokens = tokens
        self._clock = clock
        self._frontend_url = frontend_url

    async def register(self, username: str, email: str, password: str, *, client: str = "") -> User:
        if not username_is_acceptable(username):
            raise FieldInvalid(
                ("body", "username"),
                "Username may only contain letters, digits, '_', '.' and '-'",
                username,
            )
        if not email_is_acceptable(email):
            raise FieldInvalid(("body", "email"), "Value is not a valid email address", email)
        hashed = await self._hasher.hash(password, caller=by_client(client))
        async with self._uow() as uow:
            # `add` refuses a username equal to another ignoring case (login stays exact, D11)
            # and an address equal to another ignoring case, username first, race-safe (D23).
            user = await uow.users.add(NewUser(username, email, hashed, self._clock.now()))
            await uow.commit()
        return user

    async def login(self, username: str, password: str, *, client: str = "") -> IssuedToken:
        """`client` is the caller's address: its requests share their turns at the hasher,
        whatever usernames they name."""
        caller = by_client(client)
        # The unit of work ends before hashing: logins queued behind the hasher (a flood of
        # them) must not hold the database connections every other request needs.
        async with self._uow() as uow:
            user = await uow.users.by_username(username)
        if user is None:
            # Same work as a real check, so response time does not reveal usernames.
            await self._hasher.burn(password, caller=caller)
            raise InvalidCredentials()
        if not await self._hasher.verify(user.hashed_password, password, caller=caller):
            raise InvalidCredentials()
        if self._hasher.needs_rehash(user.hashed_password):
            await self._upgrade_hash(user, password, caller)
        return self._tokens.issue(user.username, user.token_version)

    async def _upgrade_hash(self, user: User, password: str, caller: str) -> None:
        """D22: a legacy bcrypt (or weaker argon2) hash is replaced at its next good login,
        unless the password changed meanwhile."""
        rehashed = await self._hasher.hash(password, caller=caller)
        async with self._uow() as uow:
            locked = await uow.users.lock(user.id)
            if locked is not None and locked.hashed_password == user.hashed_password:
                locked.hashed_password = rehashed
                await uow.users.update(locked)
                await uow.commit()

    async def identify(self, credential: str) -> tuple[User, ApiToken | None]:
        """Who a bearer credential speaks for, and the access token it is, if it is one.

        A personal access token is told by its prefix, before anything is decoded, so a JWT
        pays one `startswith` for the feature. An unknown, expired or revoked token fails as
        an invalid JWT does: the caller learns nothing about which it was.
        """
        if not api_tokens.is_personal(credential):
            return await self.authenticate(credential), None
        digest = api_tokens.secret_hash(credential)
        now = self._clock.now()
        async with self._uow() as uow:
            found = await uow.api_tokens.holder(digest)
            if found is None:
                raise AuthenticationFailed(INVALID_TOKEN)
            user, token = found
            if not api_tokens.same_hash(token.token_hash, digest) or not api_tokens.is_live(
                token, now
            ):
                raise AuthenticationFailed(INVALID_TOKEN)
            if api_tokens.touch_due(token, now):
                await uow.api_tokens.touch(token, now, now - api_tokens.TOUCH_INTERVAL)
                await uow.commit()
        return user, token

    async def authenticate(self, token: str) -> User:
        """The user a token speaks for; AuthenticationFailed with the contract's detail if none."""
        claims = self._tokens.decode(token)
        async with self._uow() as uow:
            holder = await uow.users.token_holder(claims.username, claims.jti)
        if holder is None:
            raise AuthenticationFailed("User not found")
        user, revoked = holder
        if revoked or user.token_version != claims.token_version:
            raise AuthenticationFailed(INVALID_TOKEN)
        return user

    async def logout(self, token: str | None) -> None:
        """Revoke the presented token until it would have expired; no token is no error."""
        if not token:
            return
        try:
            claims = self._tokens.decode(token)
        except AuthenticationFailed:
            return
        async with self._uow() as uow:
            await uow.revoked_tokens.add(claims.jti, claims.expires_at)
            await uow.revoked_tokens.purge_expired(self._clock.now())
            await uow.commit()

    async def change_password(self, caller: User, current: str, new: str) -> IssuedToken:
        """Replace the password; every earlier token stops working (D3). Returns a fresh one."""
        turn = by_user(caller)
        if not await self._hasher.verify(caller.hashed_password, current, caller=turn):
            raise Invalid("Current password is incorrect")
        hashed = await self._hasher.hash(new, caller=turn)
        async with self._uow() as uow:
            user = await uow.users.lock(caller.id)
            if user is None:
                raise AuthenticationFailed("User not found")
            user = replace(user, hashed_password=hashed, token_version=user.token_version + 1)
            await uow.users.update(user)
            await uow.commit()
        return self._tokens.issue(user.username, user.token_version)

    async def request_password_reset(self, email: str) -> None:
        """Queue a reset request; the outbox worker mails a link if an account has `email`.

        D10: a known and an unknown address take this same path (one insert, one commit), so
        the time to answer reveals nothing; whether anyone gets mail is decided in the
        background (`mail_password_reset`).
        """
        async with self._uow() as uow:
            await uow.outbox.add(outbox.password_reset(email), self._clock.now())
            await uow.commit()

    async def mail_password_reset(self, uow: UnitOfWork, request: OutboxMessage) -> None:
        """The outbox job behind a reset request: a fresh link for the account, if there is one.

        Runs in the unit of work that also marks the request done, so the token, its e-mail
        (queued in turn, delivered at least once) and the request's completion commit together;
        a failure rolls all of them back and the request is retried. The link lasts from the
        moment its e-mail is queued, and voids any earlier one.
        """
        now = self._clock.now()
        found = await uow.users.by_email(str(request.payload["email"]))
        user = None if found is None else await uow.users.lock(found.id)
        if user is None:
            return
        token = new_link_token()
        user.reset_token_hash = token_hash(token)
        user.reset_token_expires = now + RESET_TOKEN_LIFETIME
        await uow.users.update(user)
        message = emails.password_reset(user.email, user.username, token, self._frontend_url)
        await uow.outbox.add(outbox.send_email(message), now)

    async def reset_password(self, token: str, new_password: str, *, client: str = "") -> None:
        hashed = await self._hasher.hash(new_password, caller=by_client(client))
        now = self._clock.now()
        async with self._uow() as uow:
            user = await redeem(uow, PASSWORD_RESET, uow.users.by_reset_token, token, now)
            user.hashed_password = hashed
            user.token_version += 1
            await uow.users.update(user)
            # A reset is account recovery, maybe after a compromise: whatever access tokens
            # the account had go with the old password, in the same transaction. (A password
            # change keeps them: they are credentials of their own, listed and revocable.)
            await uow.api_tokens.revoke_all(user.id)
            await uow.commit()

    async def search(self, caller: User, text: str, limit: int) -> list[UserRef]:
        async with self._uow() as uow:
            return await uow.users.search(text, caller.id, limit)
