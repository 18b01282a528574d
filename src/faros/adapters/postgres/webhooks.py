"""Webhooks and their delivery attempts in PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ARRAY, Row, String, bindparam, delete, insert, or_, select, update

from faros.adapters.postgres.database import Database
from faros.adapters.postgres.query import Query
from faros.adapters.postgres.tables import task_shares, webhook_deliveries, webhooks
from faros.adapters.postgres.values import BIGINT_SAFE, utc, utc_or_none
from faros.domain.ids import is_int32
from faros.domain.webhooks import Delivery, NewDelivery, NewWebhook, Webhook

_w = webhooks.c
_d = webhook_deliveries.c
_s = task_shares.c
_HOOK = (
    _w.id,
    _w.user_id,
    _w.url,
    _w.events,
    _w.description,
    _w.secret,
    _w.enabled,
    _w.created_at,
    _w.updated_at,
    _w.consecutive_failures,
    _w.failing_since,
    _w.disabled_reason,
)
_DELIVERY = (
    _d.id,
    _d.webhook_id,
    _d.event_id,
    _d.event_type,
    _d.body,
    _d.attempt,
    _d.status,
    _d.response_code,
    _d.duration_ms,
    _d.error,
    _d.created_at,
)
_EVENTS = bindparam("events", type_=ARRAY(String(50)))

_ADD = Query(
    insert(webhooks)
    .values(
        user_id=bindparam("user_id"),
        url=bindparam("url"),
        events=_EVENTS,
        description=bindparam("description"),
        secret=bindparam("secret"),
        enabled=True,
        created_at=bindparam("created_at"),
    )
    .returning(*_HOOK),
    transactional=True,
)
_by_id = select(*_HOOK).where(_w.id == bindparam("id"))
_GET = Query(_by_id)
_GET_FOR_UPDATE = Query(_by_id.with_for_update(), transactional=True)
_FOR_USER = Query(select(*_HOOK).where(_w.user_id == bindparam("user_id")).order_by(_w.id))
_UPDATE = Query(
    update(webhooks)
    .where(_w.id == bindparam("id"))
    .values(
        url=bindparam("url"),
        events=_EVENTS,
        description=bindparam("description"),
        enabled=bindparam("enabled"),
        updated_at=bindparam("updated_at"),
        consecutive_failures=bindparam("consecutive_failures"),
        failing_since=bindparam("failing_since"),
        disabled_reason=bindparam("disabled_reason"),
    ),
    transactional=True,
)
_DELETE = Query(delete(webhooks).where(_w.id == bindparam("id")), transactional=True)
# The owner's webhooks and those of the users the task is shared with *now*: one query, in
# the writing transaction, so a share removed before this change sends that user nothing.
_FOR_EVENT = Query(
    select(*_HOOK)
    .where(
        _w.enabled,
        bindparam("event_type", type_=String(50)) == _w.events.any_(),
        or_(
            _w.user_id == bindparam("owner_id"),
            _w.user_id.in_(
                select(_s.shared_with_user_id).where(_s.task_id == bindparam("task_id"))
            ),
        ),
    )
    .order_by(_w.id)
)
_ADD_DELIVERY = Query(
    insert(webhook_deliveries)
    .values(
        webhook_id=bindparam("webhook_id"),
        event_id=bindparam("event_id"),
        event_type=bindparam("event_type"),
        body=bindparam("body"),
        attempt=bindparam("attempt"),
        status=bindparam("status"),
        response_code=bindparam("response_code"),
        duration_ms=bindparam("duration_ms"),
        error=bindparam("error"),
        created_at=bindparam("created_at"),
    )
    .returning(*_DELIVERY),
    transactional=True,
)
_DELIVERIES = Query(
    select(*_DELIVERY)
    .where(_d.webhook_id == bindparam("webhook_id"))
    .order_by(_d.id.desc())
    .limit(bindparam("limit"))
)
# The oldest of the ones kept; everything older goes (the index serves both statements).
_KEPT = (
    select(_d.id)
    .where(_d.webhook_id == bindparam("webhook_id"))
    .order_by(_d.id.desc())
    .offset(bindparam("keep"))
    .limit(1)
    .scalar_subquery()
)
_PRUNE = Query(
    delete(webhook_deliveries).where(_d.webhook_id == bindparam("webhook_id"), _d.id <= _KEPT),
    transactional=True,
)
_GET_DELIVERY = Query(
    select(*_DELIVERY).where(
        _d.webhook_id == bindparam("webhook_id"), _d.id == bindparam("delivery_id")
    )
)


def _hook(row: Row[Any]) -> Webhook:
    return Webhook(
        id=row.id,
        user_id=row.user_id,
        url=row.url,
        events=list(row.events),
        description=row.description,
        secret=row.secret,
        enabled=row.enabled,
        created_at=utc(row.created_at),
        updated_at=utc_or_none(row.updated_at),
        consecutive_failures=row.consecutive_failures,
        failing_since=utc_or_none(row.failing_since),
        disabled_reason=row.disabled_reason,
    )


def _delivery(row: Row[Any]) -> Delivery:
    return Delivery(
        id=row.id,
        webhook_id=row.webhook_id,
        event_id=row.event_id,
        event_type=row.event_type,
        body=row.body,
        attempt=row.attempt,
        status=row.status,
        response_code=row.response_code,
        duration_ms=row.duration_ms,
        error=row.error,
        created_at=utc(row.created_at),
    )


def _text(value: str | None) -> str | None:
    # Receivers' error texts are arbitrary; PostgreSQL text cannot hold NUL.
    return None if value is None else value.replace("\x00", "\\x00")


class PostgresWebhookRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, webhook: NewWebhook) -> Webhook:
        params = {
            "user_id": webhook.user_id,
            "url": webhook.url,
            "events": list(webhook.events),
            "description": webhook.description,
            "secret": webhook.secret,
            "created_at": webhook.created_at,
        }
        rows = await self._db.execute(_ADD, params)
        return _hook(rows[0])

    async def get(self, webhook_id: int, *, for_update: bool = False) -> Webhook | None:
        if not is_int32(webhook_id):
            return None
        rows = await self._db.execute(_GET_FOR_UPDATE if for_update else _GET, {"id": webhook_id})
        return _hook(rows[0]) if rows else None

    async def for_user(self, user_id: int) -> list[Webhook]:
        if not is_int32(user_id):
            return []
        return [_hook(row) for row in await self._db.execute(_FOR_USER, {"user_id": user_id})]

    async def update(self, webhook: Webhook) -> None:
        params = {
            "id": webhook.id,
            "url": webhook.url,
            "events": list(webhook.events),
            "description": webhook.description,
            "enabled": webhook.enabled,
            "updated_at": webhook.updated_at,
            "consecutive_failures": webhook.consecutive_failures,
            "failing_since": webhook.failing_since,
            "disabled_reason": _text(webhook.disabled_reason),
        }
        await self._db.execute(_UPDATE, params)

    async def delete(self, webhook_id: int) -> None:
        if is_int32(webhook_id):
            await self._db.execute(_DELETE, {"id": webhook_id})

    async def for_event(self, task_id: int, owner_id: int, event_type: str) -> list[Webhook]:
        if not (is_int32(task_id) and is_int32(owner_id)):
            return []
        params = {"task_id": task_id, "owner_id": owner_id, "event_type": event_type}
        return [_hook(row) for row in await self._db.execute(_FOR_EVENT, params)]

    async def add_delivery(self, delivery: NewDelivery) -> Delivery:
        params = {
            "webhook_id": delivery.webhook_id,
            "event_id": delivery.event_id,
            "event_type": delivery.event_type,
            "body": _text(delivery.body),
            "attempt": delivery.attempt,
            "status": delivery.status,
            "response_code": delivery.response_code,
            "duration_ms": delivery.duration_ms,
            "error": _text(delivery.error),
            "created_at": delivery.created_at,
        }
        rows = await self._db.execute(_ADD_DELIVERY, params)
        return _delivery(rows[0])

    async def deliveries(self, webhook_id: int, limit: int) -> list[Delivery]:
        if limit <= 0 or not is_int32(webhook_id):
            return []
        params = {"webhook_id": webhook_id, "limit": min(limit, BIGINT_SAFE)}
        return [_delivery(row) for row in await self._db.execute(_DELIVERIES, params)]

    async def prune_deliveries(self, webhook_id: int, keep: int) -> None:
        if is_int32(webhook_id):
            params = {"webhook_id": webhook_id, "keep": min(max(keep, 0), BIGINT_SAFE)}
            await self._db.execute(_PRUNE, params)

    async def get_delivery(self, webhook_id: int, delivery_id: int) -> Delivery | None:
        if not is_int32(webhook_id) or not 0 < delivery_id < BIGINT_SAFE:
            return None
        params = {"webhook_id": webhook_id, "delivery_id": delivery_id}
        rows = await self._db.execute(_GET_DELIVERY, params)
        return _delivery(rows[0]) if rows else None
