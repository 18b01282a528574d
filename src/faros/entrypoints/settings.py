"""Settings: one frozen object read from `FAROS_*` environment variables and an optional `.env`.

The names are binding (operators and outside tests use them); the README lists each with its
default. Invalid values fail start-up with a message naming the variable.
"""

from __future__ import annotations

import ipaddress
import logging
import math
import os
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, TypeVar

logger = logging.getLogger("faros.settings")

DEVELOPMENT_SECRET = "faros-development-secret-key-do-not-use-in-production"  # noqa: S105
DEFAULT_CORS_ORIGINS = (
    "http://localhost:5173",
    "http://127.0.0.1:5173",
    "http://localhost:5174",
    "http://127.0.0.1:5174",
)

Environment = Literal["development", "production"]
SameSite = Literal["lax", "strict", "none"]
StorageKind = Literal["local", "s3"]
EmailProvider = Literal["outbox-dir", "smtp", "resend", "ses"]
SmtpTls = Literal["none", "starttls", "tls"]
LogFormat = Literal["json", "console"]
_Choice = TypeVar("_Choice", bound=str)


class SettingsError(ValueError):
    """A setting has a value FAROS cannot use."""


@dataclass(frozen=True, slots=True)
class Settings:
    environment: Environment = "development"
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    database_url: str | None = None
    data_dir: Path = Path(".faros")
    redis_url: str | None = None
    secret_key: str = DEVELOPMENT_SECRET
    access_token_minutes: int = 720
    cookie_name: str = "access_token"
    cookie_secure: bool = False
    cookie_samesite: SameSite = "lax"
    cookie_domain: str | None = None
    cors_origins: tuple[str, ...] = DEFAULT_CORS_ORIGINS
    frontend_url: str = "http://localhost:5173"
    rate_limits: bool = True
    trusted_proxies: tuple[str, ...] = ()
    storage: StorageKind = "local"
    upload_dir: Path = Path(".faros/uploads")
    s3_bucket: str | None = None
    s3_region: str = "us-east-1"
    s3_endpoint_url: str | None = None
    email_provider: EmailProvider = "outbox-dir"
    email_from: str = "faros@localhost"
    smtp_host: str = "localhost"
    smtp_port: int = 25
    smtp_username: str | None = None
    smtp_password: str | None = field(default=None, repr=False)
    smtp_tls: SmtpTls = "none"
    resend_api_key: str | None = field(default=None, repr=False)
    resend_base_url: str = "https://api.resend.com"
    ses_region: str = "us-east-1"
    ses_endpoint_url: str | None = None
    outbox_worker: bool = True
    # Lets webhooks call private, loopback and link-local addresses (tests, closed networks).
    webhook_allow_private: bool = False
    log_format: LogFormat = "console"
    log_level: str = "INFO"
    # Not part of the binding table: request-size guard for JSON bodies (uploads are streamed).
    max_body_bytes: int = 1024 * 1024
    # What one connection may cost before it is a request (entrypoints/server.py).
    max_header_bytes: int = 64 * 1024
    header_timeout_seconds: int = 10
    keepalive_timeout_seconds: int = 5
    max_connections: int = 1000

    @property
    def outbox_dir(self) -> Path:
        return self.data_dir / "outbox"

    @property
    def embedded_postgres_dir(self) -> Path:
        return self.data_dir / "postgres"


def read_dotenv(path: Path) -> dict[str, str]:
    """`KEY=value` lines; `#` comments and blank lines skipped; optional quotes stripped."""
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        key = key.strip().removeprefix("export ").strip()
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key] = value
    return values


class _Reader:
    def __init__(self, env: Mapping[str, str]) -> None:
        self._env = env

    def text(self, name: str) -> str | None:
        value = self._env.get(name)
        return value if value not in (None, "") else None

    def choice(self, name: str, allowed: tuple[_Choice, ...], default: _Choice) -> _Choice:
        value = self.text(name)
        if value is None:
            return default
        lowered = value.lower()
        for option in allowed:
            if option == lowered:
                return option
        raise SettingsError(f"{name} must be one of {', '.join(allowed)}; got {value!r}")

    def integer(self, name: str, default: int, minimum: int = 0) -> int:
        value = self.text(name)
        if value is None:
            return default
        try:
            number = int(value)
        except ValueError as error:
            raise SettingsError(f"{name} must be an integer; got {value!r}") from error
        if number < minimum:
            raise SettingsError(f"{name} must be at least {minimum}; got {number}")
        return number

    def flag(self, name: str, default: bool) -> bool:
        value = self.text(name)
        if value is None:
            return default
        lowered = value.lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
        raise SettingsError(f"{name} must be on/off (or true/false); got {value!r}")

    def items(self, name: str, default: tuple[str, ...]) -> tuple[str, ...]:
        value = self._env.get(name)
        if value is None:
            return default
        return tuple(item.strip().rstrip("/") for item in value.split(",") if item.strip())


# An estimate from the key's own character frequencies: 32 random hex digits (128 real bits)
# score about 90 at worst, while keys typed by hand with long runs score far less.
_MIN_SECRET_BITS = 80.0


def guessable_secret(secret: str) -> bool:
    """Too little estimated entropy (Shannon bits of its characters), or a block repeated."""
    counts = Counter(secret)
    size = len(secret)
    bits = -sum(n * math.log2(n / size) for n in counts.values())
    return bits < _MIN_SECRET_BITS or _smallest_period(secret) <= size // 2


def _smallest_period(text: str) -> int:
    """Smallest p with text[i] == text[i + p] for every i (KMP failure function)."""
    border = [0] * len(text)
    matched = 0
    for index in range(1, len(text)):
        while matched and text[index] != text[matched]:
            matched = border[matched - 1]
        if text[index] == text[matched]:
            matched += 1
        border[index] = matched
    return len(text) - (border[-1] if text else 0)


_ORIGIN = re.compile(
    r"(?P<scheme>https?)://(?P<host>[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?|\[[0-9a-f:.]+\])"
    r"(?::(?P<port>[0-9]{1,5}))?"
)
_DEFAULT_PORTS = {"http": 80, "https": 443}


def canonical_origin(entry: str) -> str | None:
    """`scheme://host[:port]` as a browser writes it in `Origin` (default port dropped), or None."""
    found = _ORIGIN.fullmatch(entry.strip().lower())
    if found is None:
        return None
    scheme, host, port = found["scheme"], found["host"], found["port"]
    if host.startswith("["):
        try:
            host = f"[{ipaddress.IPv6Address(host[1:-1]).compressed}]"
        except ValueError:
            return None
    if port is None:
        return f"{scheme}://{host}"
    number = int(port)
    if not 0 < number < 65536:
        return None
    if _DEFAULT_PORTS[scheme] == number:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{number}"


def cors_allow_list(entries: tuple[str, ...], production: bool) -> tuple[str, ...]:
    """FAROS_CORS_ORIGINS checked: in production only real origins; in development a warning.

    The allow-list is echoed with credentials, so `*` or `null` there would let any page (or
    any sandboxed frame) read a signed-in user's data. Development keeps `*` as "any origin,
    never with credentials" and drops the other unusable entries.
    """
    allowed: list[str] = []
    for entry in entries:
        origin = canonical_origin(entry)
        if origin is not None:
            allowed.append(origin)
            continue
        if production:
            raise SettingsError(
                f"FAROS_CORS_ORIGINS: {entry!r} is not allowed in production; list each "
                "origin as scheme://host[:port] (no '*', no 'null', no path)"
            )
        if entry == "*":
            logger.warning(
                "FAROS_CORS_ORIGINS contains '*': any origin may read responses, but never "
                "with credentials (no cookie clients cross-origin); refused in production"
            )
            allowed.append(entry)
        else:
            logger.warning(
                "FAROS_CORS_ORIGINS: %r is not an origin (scheme://host[:port]); ignored", entry
            )
    return tuple(dict.fromkeys(allowed))


def load_settings(
    environ: Mapping[str, str] | None = None, dotenv: Path | None = Path(".env")
) -> Settings:
    """Read settings; real environment variables win over `.env` entries."""
    env: dict[str, str] = {}
    if dotenv is not None:
        env.update(read_dotenv(dotenv))
    env.update(os.environ if environ is None else environ)
    read = _Reader(env)

    environment: Environment = read.choice(
        "FAROS_ENVIRONMENT", ("development", "production"), "development"
    )
    production = environment == "production"
    secret = read.text("FAROS_SECRET_KEY")
    if secret is None:
        if production:
            raise SettingsError("FAROS_SECRET_KEY is required when FAROS_ENVIRONMENT=production")
        logger.warning(
            "FAROS_SECRET_KEY is not set: using the public DEVELOPMENT key. Tokens signed with "
            "it are forgeable by anyone; set FAROS_SECRET_KEY before exposing this server."
        )
        secret = DEVELOPMENT_SECRET
    elif production and (secret == DEVELOPMENT_SECRET or len(secret) < 32):
        raise SettingsError("FAROS_SECRET_KEY must be a private value of at least 32 characters")
    elif production and guessable_secret(secret):
        raise SettingsError(
            "FAROS_SECRET_KEY is too predictable (too few distinct characters or a repeated "
            "block): use "
            "a random value, e.g. the output of "
            "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`"
        )

    data_dir = Path(read.text("FAROS_DATA_DIR") or ".faros")
    upload_dir = read.text("FAROS_UPLOAD_DIR")
    storage: StorageKind = read.choice("FAROS_STORAGE", ("local", "s3"), "local")
    s3_bucket = read.text("FAROS_S3_BUCKET")
    if storage == "s3" and s3_bucket is None:
        raise SettingsError("FAROS_S3_BUCKET is required when FAROS_STORAGE=s3")
    provider: EmailProvider = read.choice(
        "FAROS_EMAIL_PROVIDER", ("outbox-dir", "smtp", "resend", "ses"), "outbox-dir"
    )
    resend_key = read.text("FAROS_RESEND_API_KEY")
    if provider == "resend" and resend_key is None:
        raise SettingsError("FAROS_RESEND_API_KEY is required when FAROS_EMAIL_PROVIDER=resend")

    return Settings(
        environment=environment,
        host=read.text("FAROS_HOST") or "127.0.0.1",
        port=read.integer("FAROS_PORT", 8000, minimum=1),
        workers=read.integer("FAROS_WORKERS", 1, minimum=1),
        database_url=read.text("FAROS_DATABASE_URL"),
        data_dir=data_dir,
        redis_url=read.text("FAROS_REDIS_URL"),
        secret_key=secret,
        access_token_minutes=read.integer("FAROS_ACCESS_TOKEN_MINUTES", 720, minimum=1),
        cookie_secure=read.flag("FAROS_COOKIE_SECURE", production),
        cookie_samesite=read.choice(
            "FAROS_COOKIE_SAMESITE", ("lax", "strict", "none"), "none" if production else "lax"
        ),
        cookie_domain=read.text("FAROS_COOKIE_DOMAIN"),
        cors_origins=cors_allow_list(
            read.items("FAROS_CORS_ORIGINS", DEFAULT_CORS_ORIGINS), production
        ),
        frontend_url=(read.text("FAROS_FRONTEND_URL") or "http://localhost:5173").rstrip("/"),
        rate_limits=read.flag("FAROS_RATE_LIMITS", True),
        trusted_proxies=read.items("FAROS_TRUSTED_PROXIES", ()),
        storage=storage,
        upload_dir=Path(upload_dir) if upload_dir else data_dir / "uploads",
        s3_bucket=s3_bucket,
        s3_region=read.text("FAROS_S3_REGION") or "us-east-1",
        s3_endpoint_url=read.text("FAROS_S3_ENDPOINT_URL"),
        email_provider=provider,
        email_from=read.text("FAROS_EMAIL_FROM") or "faros@localhost",
        smtp_host=read.text("FAROS_SMTP_HOST") or "localhost",
        smtp_port=read.integer("FAROS_SMTP_PORT", 25, minimum=1),
        smtp_username=read.text("FAROS_SMTP_USERNAME"),
        smtp_password=read.text("FAROS_SMTP_PASSWORD"),
        smtp_tls=read.choice("FAROS_SMTP_TLS", ("none", "starttls", "tls"), "none"),
        resend_api_key=resend_key,
        resend_base_url=(read.text("FAROS_RESEND_BASE_URL") or "https://api.resend.com"),
        ses_region=read.text("FAROS_SES_REGION") or "us-east-1",
        ses_endpoint_url=read.text("FAROS_SES_ENDPOINT_URL"),
        outbox_worker=read.flag("FAROS_OUTBOX_WORKER", True),
        webhook_allow_private=read.flag("FAROS_WEBHOOK_ALLOW_PRIVATE", False),
        log_format=read.choice(
            "FAROS_LOG_FORMAT", ("json", "console"), "json" if production else "console"
        ),
        log_level=(read.text("FAROS_LOG_LEVEL") or "INFO").upper(),
        max_header_bytes=read.integer("FAROS_MAX_HEADER_BYTES", 64 * 1024, minimum=1024),
        header_timeout_seconds=read.integer("FAROS_HEADER_TIMEOUT_SECONDS", 10, minimum=1),
        keepalive_timeout_seconds=read.integer("FAROS_KEEPALIVE_TIMEOUT_SECONDS", 5, minimum=1),
        max_connections=read.integer("FAROS_MAX_CONNECTIONS", 1000, minimum=1),
    )
