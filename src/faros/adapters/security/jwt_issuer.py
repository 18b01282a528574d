"""HS256 access tokens (API.md §1.4, decisions D2 and D3).

Wire claims: `sub` (the username), `exp`, `iat`, `jti` (for logout's deny-list) and `ver` (the
user's token version, bumped by password change/reset). Tokens issued by the original FAROS carry
only `sub` and `exp`; they decode with version 0 and a jti derived from their signature (see
`_legacy_jti`) until they expire.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import jwt
from jwt.types import Options
from jwt.utils import base64url_decode

from faros.domain.errors import AuthenticationFailed
from faros.ports.clock import Clock
from faros.ports.token_issuer import IssuedToken, TokenClaims

# Pinned on both sides: the token's own header never chooses the algorithm (RFC 8725 §2.1), so
# `alg: none`, other HMAC sizes and public-key algorithms are all refused.
ALGORITHM: Final = "HS256"

INVALID_TOKEN: Final = "Invalid or expired token"  # noqa: S105  (a message, not a secret)
INVALID_PAYLOAD: Final = "Invalid token payload"

# Tokens whose signature and payload have been checked, by their exact text. A client sends
# the same token with every request; checking the HMAC and parsing the JSON again costs far
# more than a lookup (bench/README.md). Only the expiry is re-checked on a hit. Bounded, because
# every login adds one; the oldest entries go first.
VERIFIED_CACHE_SIZE: Final = 4096

_DECODE_OPTIONS: Final[Options] = {
    "require": ["exp"],  # `sub` is required too, but checked after expiry: see decode()
    # Expiry is checked against the injected Clock rather than PyJWT's wall clock, so the
    # issuing and the checking side agree on "now" (a ManualClock in tests, SystemClock live).
    "verify_exp": False,
    "verify_iat": False,
}


class JwtTokenIssuer:
    """`TokenIssuer` port on PyJWT."""

    def __init__(self, secret: str, lifetime_minutes: int, clock: Clock) -> None:
        if not secret:
            raise ValueError("the token secret must not be empty")
        if lifetime_minutes <= 0:
            raise ValueError("the token lifetime must be positive")
        self._secret = secret
        self._lifetime = timedelta(minutes=lifetime_minutes)
        self._clock = clock
        self._verified: dict[str, TokenClaims] = {}

    def issue(self, username: str, token_version: int) -> IssuedToken:
        now = self._clock.now()
        # Whole seconds: `exp` goes on the wire as an integer, and the claims we return must
        # say exactly what the token says.
        issued_at = int(now.timestamp())
        expires = issued_at + int(self._lifetime.total_seconds())
        jti = uuid.uuid4().hex
        payload = {
            "sub": username,
            "exp": expires,
            "iat": issued_at,
            "jti": jti,
            "ver": token_version,
        }
        token = jwt.encode(payload, self._secret, algorithm=ALGORITHM)
        claims = TokenClaims(
            username=username,
            token_version=token_version,
            jti=jti,
            expires_at=datetime.fromtimestamp(expires, UTC),
        )
        return IssuedToken(token=token, claims=claims)

    def decode(self, token: str) -> TokenClaims:
        """Check signature, algorithm and expiry, then the payload (API.md §1.3 steps 4-5)."""
        known = self._verified.get(token)
        if known is not None:
            if known.expires_at <= self._clock.now():
                del self._verified[token]
                raise AuthenticationFailed(INVALID_TOKEN)
            return known
        claims = self._verify(token)
        if len(self._verified) >= VERIFIED_CACHE_SIZE:
            del self._verified[next(iter(self._verified))]
        self._verified[token] = claims
        return claims

    def _verify(self, token: str) -> TokenClaims:
        try:
            payload = jwt.decode(
                token, self._secret, algorithms=[ALGORITHM], options=_DECODE_OPTIONS
            )
        except jwt.InvalidTokenError as exc:
            # Bad signature/algorithm/format, missing `exp`, non-string `sub` (PyJWT checks it).
            raise AuthenticationFailed(INVALID_TOKEN) from exc
        expires_at = self._unexpired(payload.get("exp"))
        username = payload.get("sub")
        # Only now, so an expired token says "expired" whatever its payload (§1.3 order).
        if not isinstance(username, str) or not username:
            raise AuthenticationFailed(INVALID_PAYLOAD)
        return TokenClaims(
            username=username,
            token_version=_token_version(payload.get("ver")),
            jti=_jti(payload.get("jti"), token),
            expires_at=expires_at,
        )

    def _unexpired(self, exp: Any) -> datetime:
        # bool is an int subclass; `"exp": true` is not a time.
        if isinstance(exp, bool) or not isinstance(exp, int | float):
            raise AuthenticationFailed(INVALID_TOKEN)
        try:
            expires_at = datetime.fromtimestamp(exp, UTC)
        except (OverflowError, OSError, ValueError) as exc:
            raise AuthenticationFailed(INVALID_TOKEN) from exc
        if expires_at <= self._clock.now():
            raise AuthenticationFailed(INVALID_TOKEN)
        return expires_at


def _token_version(ver: Any) -> int:
    if ver is None:  # issued by the original FAROS, before token versions existed
        return 0
    if isinstance(ver, bool) or not isinstance(ver, int):
        raise AuthenticationFailed(INVALID_PAYLOAD)
    return ver


def _jti(jti: Any, token: str) -> str:
    # PyJWT already rejects a non-string jti; a missing one (original FAROS) is derived.
    return jti if isinstance(jti, str) and jti else _legacy_jti(token)


def _legacy_jti(token: str) -> str:
    """A deny-list key for a token without `jti`: logging it out revokes that token alone.

    Hashes the decoded signature, not the token's text: PyJWT also accepts the signature padded
    with "=", so one signed token has more than one spelling, and a revoked one must stay
    revoked in each. The signature is the HMAC of the exact header and payload text, so
    distinct tokens have distinct keys. 64 hex digits: never one of our uuid4 hex
    jtis (32), and the deny-list column's width.
    """
    signature = base64url_decode(token.rsplit(".", 1)[-1])
    return hashlib.sha256(signature).hexdigest()
