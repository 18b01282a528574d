"""Password hashing and access tokens."""

from faros.adapters.security.argon2_hasher import Argon2PasswordHasher
from faros.adapters.security.jwt_issuer import JwtTokenIssuer

__all__ = ["Argon2PasswordHasher", "JwtTokenIssuer"]
