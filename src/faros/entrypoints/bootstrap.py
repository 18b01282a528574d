"""The composition root: settings in, adapters built, use cases wired, resources released.

This is the only module that knows every adapter. Everything it builds is owned by a
`Container`, whose `aclose()` releases pools and clients in reverse order. A caller may hand
in adapters of its own (`Adapters`), e.g. the in-memory ones: those are used as given and
left for the caller to release.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, nullcontext
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from faros.adapters.localfs.storage import LocalBlobStorage
from faros.adapters.memory.cache import MemoryCache
from faros.adapters.memory.rate_limiter import MemoryRateLimiter
from faros.adapters.memory.store import MemoryStore
from faros.adapters.memory.unit_of_work import MemoryUnitOfWorkFactory
from faros.adapters.postgres.engine import create_engine
from faros.adapters.postgres.unit_of_work import PostgresUnitOfWorkFactory
from faros.adapters.security.argon2_hasher import Argon2PasswordHasher
from faros.adapters.security.jwt_issuer import JwtTokenIssuer
from faros.adapters.system_clock import SystemClock
from faros.adapters.webhooks.http_sender import HttpWebhookSender
from faros.domain.api_tokens import derivation_key
from faros.domain.outbox import OutboxKind
from faros.domain.services.accounts import AccountService
from faros.domain.services.activity import ActivityService
from faros.domain.services.api_tokens import ApiTokenService
from faros.domain.services.comments import CommentService
from faros.domain.services.files import FileService
from faros.domain.services.notifications import NotificationService
from faros.domain.services.outbox_processor import OutboxHandler, OutboxJob, OutboxProcessor
from faros.domain.services.sharing import SharingService
from faros.domain.services.tasks import TaskService
from faros.domain.services.webhook_delivery import WebhookDeliverer
from faros.domain.services.webhook_events import WebhookEvents
from faros.domain.services.webhooks import WebhookService
from faros.entrypoints.http.webhook_data import WireEventData
from faros.entrypoints.settings import Settings
from faros.ports.blob_storage import BlobStorage
from faros.ports.cache import Cache
from faros.ports.clock import Clock
from faros.ports.email_sender import EmailSender
from faros.ports.password_hasher import PasswordHasher
from faros.ports.rate_limiter import RateLimiter
from faros.ports.unit_of_work import UnitOfWorkFactory
from faros.ports.webhook_sender import WebhookSender

logger = logging.getLogger("faros.bootstrap")


@dataclass(slots=True)
class Container:
    settings: Settings
    clock: Clock
    accounts: AccountService
    tasks: TaskService
    sharing: SharingService
    comments: CommentService
    files: FileService
    notifications: NotificationService
    activity: ActivityService
    api_tokens: ApiTokenService
    outbox: OutboxProcessor
    webhooks: WebhookService
    rate_limiter: RateLimiter
    database_ping: Callable[[], Awaitable[bool]]
    # Wraps one request that reads no body: its units of work pass their connection along.
    connection_hand_over: Callable[[], AbstractAsyncContextManager[None]]
    redis_ping: Callable[[], Awaitable[bool]] | None
    _resources: AsyncExitStack

    async def aclose(self) -> None:
        await self._resources.aclose()


@dataclass(frozen=True, slots=True)
class Persistence:
    """Where the repositories live, with what the HTTP edge needs of it beside the units of work.

    `connection_hand_over` wraps one request that reads no body, so that its units of work may
    pass one connection along (a no-op where there are no connections).
    """

    unit_of_work: UnitOfWorkFactory
    ping: Callable[[], Awaitable[bool]]
    connection_hand_over: Callable[[], AbstractAsyncContextManager[None]]


async def _always_up() -> bool:
    return True


def in_memory(store: MemoryStore | None = None) -> Persistence:
    """The in-memory repositories: one process's store, always reachable, nothing to hand over."""
    return Persistence(MemoryUnitOfWorkFactory(store), _always_up, nullcontext)


@dataclass(frozen=True, slots=True)
class Adapters:
    """Adapters chosen by the caller; each one left out is built from the settings."""

    persistence: Persistence | None = None
    storage: BlobStorage | None = None
    email: EmailSender | None = None
    cache: Cache | None = None
    rate_limiter: RateLimiter | None = None
    hasher: PasswordHasher | None = None
    clock: Clock | None = None
    webhook_sender: WebhookSender | None = None


def _storage(settings: Settings, stack: AsyncExitStack) -> BlobStorage:
    if settings.storage == "s3":
        from faros.adapters.s3.storage import S3BlobStorage

        assert settings.s3_bucket is not None  # enforced by load_settings  # noqa: S101
        s3 = S3BlobStorage(
            settings.s3_bucket, settings.s3_region, endpoint_url=settings.s3_endpoint_url
        )
        stack.push_async_callback(s3.close)
        return s3
    return LocalBlobStorage(settings.upload_dir)


def _email(settings: Settings, stack: AsyncExitStack) -> EmailSender:
    sender = settings.email_from
    if settings.email_provider == "smtp":
        from faros.adapters.email.smtp import SmtpEmailSender

        return SmtpEmailSender(
            settings.smtp_host,
            settings.smtp_port,
            sender,
            username=settings.smtp_username,
            password=settings.smtp_password,
            tls=settings.smtp_tls,
        )
    if settings.email_provider == "resend":
        from faros.adapters.email.resend import ResendEmailSender

        assert settings.resend_api_key is not None  # enforced by load_settings  # noqa: S101
        resend = ResendEmailSender(
            settings.resend_api_key, sender, base_url=settings.resend_base_url
        )
        stack.push_async_callback(resend.aclose)
        return resend
    if settings.email_provider == "ses":
        from faros.adapters.email.ses import SesEmailSender

        ses = SesEmailSender(
            sender, region=settings.ses_region, endpoint_url=settings.ses_endpoint_url
        )
        stack.push_async_callback(ses.close)
        return ses
    from faros.adapters.email.outbox_dir import OutboxDirEmailSender

    return OutboxDirEmailSender(settings.outbox_dir, sender)


def _cache_and_limiter(
    settings: Settings, stack: AsyncExitStack
) -> tuple[Cache, RateLimiter, Callable[[], Awaitable[bool]] | None]:
    if settings.redis_url:
        from faros.adapters.redis.cache import RedisCache
        from faros.adapters.redis.rate_limiter import RedisRateLimiter
        from faros.adapters.redis.resilience import CircuitBreaker

        # One breaker for both: one server, so one timeout is enough to take both off it.
        breaker = CircuitBreaker("cache and rate limits")
        cache = RedisCache(settings.redis_url, breaker=breaker)
        limiter = RedisRateLimiter(settings.redis_url, breaker=breaker)
        stack.push_async_callback(cache.aclose)
        stack.push_async_callback(limiter.aclose)
        return cache, limiter, cache.ping
    if settings.workers > 1:
        from faros.adapters.memory.cache import NullCache

        # Each worker would cache in its own memory, and a mutation served by one worker cannot
        # invalidate another's copy: stale statistics for up to 300 s. Computing them every time
        # is correct (D17) and costs one query.
        logger.warning(
            "FAROS_WORKERS=%d without FAROS_REDIS_URL: the statistics cache is off (a cache per "
            "process would serve stale numbers) and each process counts rate limits on its own; "
            "set FAROS_REDIS_URL to share both",
            settings.workers,
        )
        return NullCache(), MemoryRateLimiter(), None
    return MemoryCache(), MemoryRateLimiter(), None


def _ping(engine: AsyncEngine) -> Callable[[], Awaitable[bool]]:
    async def ping() -> bool:
        try:
            async with engine.connect() as connection:
                # On the driver: through SQLAlchemy the ping was BEGIN, SELECT 1, ROLLBACK.
                driver = (await connection.get_raw_connection()).driver_connection
                if driver is None:  # not reachable: a checked-out connection has its driver
                    return False
                await driver.fetchval("SELECT 1")
        except Exception:  # noqa: BLE001 - any failure means "unreachable" to a health probe
            return False
        return True

    return ping


def _postgres(database_url: str, pool_size: int, stack: AsyncExitStack) -> Persistence:
    engine = create_engine(database_url, pool_size=pool_size)
    stack.push_async_callback(engine.dispose)
    uow = PostgresUnitOfWorkFactory(engine, cache_authentication=True)
    stack.push_async_callback(uow.aclose)  # before the engine's dispose (last in, first out)
    return Persistence(uow, _ping(engine), uow.handing_over)


def build_container(
    settings: Settings,
    *,
    database_url: str | None = None,
    adapters: Adapters | None = None,
    pool_size: int = 10,
) -> Container:
    """Wire every adapter for `settings`; `database_url` is resolved by the caller.

    The database is PostgreSQL at `database_url` unless `adapters` brings its own persistence.
    """
    given = adapters or Adapters()
    stack = AsyncExitStack()
    clock = given.clock if given.clock is not None else SystemClock()
    if given.persistence is not None:
        persistence = given.persistence
    elif database_url is not None:
        persistence = _postgres(database_url, pool_size, stack)
    else:
        raise ValueError("build_container needs a database_url or Adapters(persistence=...)")
    uow = persistence.unit_of_work
    storage = given.storage if given.storage is not None else _storage(settings, stack)
    email = given.email if given.email is not None else _email(settings, stack)
    redis_ping: Callable[[], Awaitable[bool]] | None
    if given.cache is not None and given.rate_limiter is not None:
        cache, limiter, redis_ping = given.cache, given.rate_limiter, None
    else:
        cache, limiter, redis_ping = _cache_and_limiter(settings, stack)
        if given.cache is not None:
            cache, redis_ping = given.cache, None
        if given.rate_limiter is not None:
            limiter = given.rate_limiter
    tokens = JwtTokenIssuer(settings.secret_key, settings.access_token_minutes, clock)
    frontend = settings.frontend_url
    hasher = given.hasher
    if hasher is None:
        argon2 = Argon2PasswordHasher()
        stack.push_async_callback(argon2.aclose)  # its worker processes
        hasher = argon2
    accounts = AccountService(uow, hasher, tokens, clock, frontend)
    jobs: dict[OutboxKind, OutboxJob] = {"password_reset": accounts.mail_password_reset}
    private = settings.webhook_allow_private
    sender = given.webhook_sender or HttpWebhookSender(allow_private=private)
    events = WebhookEvents(WireEventData())
    deliverer = WebhookDeliverer(uow, clock, sender, frontend)
    handlers: dict[OutboxKind, OutboxHandler] = {"webhook": deliverer.deliver}
    return Container(
        settings=settings,
        clock=clock,
        accounts=accounts,
        tasks=TaskService(uow, clock, cache, frontend, webhooks=events),
        sharing=SharingService(uow, clock, cache, frontend, webhooks=events),
        comments=CommentService(uow, clock, cache, frontend, webhooks=events),
        files=FileService(uow, clock, storage, webhooks=events),
        notifications=NotificationService(uow, clock, frontend),
        activity=ActivityService(uow),
        api_tokens=ApiTokenService(uow, clock, derivation_key(settings.secret_key)),
        outbox=OutboxProcessor(uow, clock, email, storage, jobs=jobs, handlers=handlers),
        webhooks=WebhookService(
            uow,
            clock,
            sender,
            allow_http=settings.environment == "development",
            allow_private=private,
        ),
        rate_limiter=limiter,
        database_ping=persistence.ping,
        connection_hand_over=persistence.connection_hand_over,
        redis_ping=redis_ping,
        _resources=stack,
    )
