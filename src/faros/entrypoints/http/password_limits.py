"""Limits on the routes that hash a password: each hash costs a core real time, on purpose.

Beyond each route's own limit, every request that will hash a password (login, register,
change-password, reset) spends one unit of a shared budget, per client address and per account
where one is named. One caller then cannot buy more hashing by mixing routes, nor by spreading
guesses at one account over many addresses. Login counts against the submitted username
whether or not such an account exists, so a refusal reveals nothing.
"""

from __future__ import annotations

from typing import Final

from faros.entrypoints.http.deps import RateLimits
from faros.ports.rate_limiter import RateLimit

CHANGE_PASSWORD_LIMIT: Final = RateLimit(5, 60)
# Twice the login route's per-address limit: one address guessing alone cannot lock an
# account out (a per-account limit is also a way to deny its owner a login).
PASSWORD_BUDGET: Final = RateLimit(10, 60)
BUDGET_BUCKET: Final = "passwords"  # the RateLimit-Policy name


async def spend_password_budget(
    limits: RateLimits, client: str, *, account: str | None = None
) -> None:
    """Count one hash against the client's address, then against `account` (a username).

    The address first: a request its address may not make does not eat into the account's
    budget, so one address cannot use up someone else's.
    """
    await limits.spend(PASSWORD_BUDGET, BUDGET_BUCKET, f"ip_{client}")
    if account is not None:
        await limits.spend(PASSWORD_BUDGET, BUDGET_BUCKET, f"account_{account}")
