"""Idempotency keys in PostgreSQL.

A key is held by a transaction-scoped advisory lock, tried without waiting: a second request
with a key whose first is still running gets `busy` (409) at once instead of queueing behind
it. The record itself is inserted with the answer, right before the commit; the read that
follows the lock is a statement of its own, so under READ COMMITTED it sees a record the
previous holder committed just before releasing the lock. A key that has its record is
replayed whoever holds the lock: concurrent retries of an answered key all replay.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from sqlalchemy import Row, bindparam, delete, func, literal, select, text, tuple_

from faros.adapters.postgres.database import Database
from faros.adapters.postgres.query import Query
from faros.adapters.postgres.tables import idempotency_keys
from faros.adapters.postgres.values import utc
from faros.domain.idempotency import IdempotencyRecord, StoredResponse
from faros.domain.ids import is_int32
from faros.ports.idempotency_repository import Claim

_k = idempotency_keys.c
_LOCK_SPACE: Final = 0x69646D70  # "idmp": the first key of the two-key advisory locks
_TRY_LOCK = Query(
    select(
        func.pg_try_advisory_xact_lock(
            literal(_LOCK_SPACE), func.hashtext(bindparam("lock"))
        ).label("locked")
    ),
    transactional=True,
)
_GET = Query(
    select(
        _k.fingerprint,
        _k.status_code,
        _k.content_type,
        _k.location,
        _k.body,
        _k.created_at,
        _k.expires_at,
    ).where(
        _k.user_id == bindparam("uid"),
        _k.key == bindparam("key"),
        _k.expires_at > bindparam("now"),
    )
)
# One round trip: the insert also deletes a few expired records of anyone's (skipping rows
# another transaction is deleting), so the table holds about a day of keys without a job. Its
# own key is left out: a statement cannot delete and upsert one row.
_PURGE_LIMIT: Final = 8
_ADD = Query(
    text(
        """
        WITH purged AS (
            DELETE FROM faros.idempotency_keys
            WHERE (user_id, key) IN (
                SELECT user_id, key FROM faros.idempotency_keys
                WHERE expires_at <= :now AND NOT (user_id = :uid AND key = :key)
                ORDER BY expires_at
                LIMIT :purge
                FOR UPDATE SKIP LOCKED
            )
        )
        INSERT INTO faros.idempotency_keys AS k (
            user_id, key, fingerprint, status_code, content_type, location, body,
            created_at, expires_at
        ) VALUES (
            :uid, :key, :fingerprint, :status_code, :content_type, :location, :body,
            :now, :expires_at
        )
        ON CONFLICT (user_id, key) DO UPDATE SET
            fingerprint = excluded.fingerprint,
            status_code = excluded.status_code,
            content_type = excluded.content_type,
            location = excluded.location,
            body = excluded.body,
            created_at = excluded.created_at,
            expires_at = excluded.expires_at
        """
    ),
    transactional=True,
)
_expired = (
    select(_k.user_id, _k.key)
    .where(_k.expires_at <= bindparam("now"))
    .order_by(_k.expires_at)
    .limit(bindparam("limit"))
    .with_for_update(skip_locked=True)
)
_PURGE = Query(
    delete(idempotency_keys).where(tuple_(_k.user_id, _k.key).in_(_expired)).returning(_k.user_id),
    transactional=True,
)


def _record(user_id: int, key: str, row: Row[Any]) -> IdempotencyRecord:
    return IdempotencyRecord(
        user_id=user_id,
        key=key,
        fingerprint=bytes(row.fingerprint),
        response=StoredResponse(
            status_code=row.status_code,
            content_type=row.content_type,
            body=bytes(row.body),
            location=row.location,
        ),
        created_at=utc(row.created_at),
        expires_at=utc(row.expires_at),
    )


class PostgresIdempotencyRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def claim(self, user_id: int, key: str, now: datetime) -> Claim:
        if not is_int32(user_id):
            return Claim()
        locked = await self._db.execute(_TRY_LOCK, {"lock": f"{user_id}:{key}"})
        rows = await self._db.execute(_GET, {"uid": user_id, "key": key, "now": now})
        if rows:
            # Answered already: the holder of the lock, if any, is another retry (replays
            # take the lock too), so this one replays as well instead of waiting or a 409.
            return Claim(record=_record(user_id, key, rows[0]))
        return Claim() if locked[0].locked else Claim(busy=True)

    async def add(self, record: IdempotencyRecord) -> None:
        response = record.response
        await self._db.execute(
            _ADD,
            {
                "uid": record.user_id,
                "key": record.key,
                "fingerprint": record.fingerprint,
                "status_code": response.status_code,
                "content_type": response.content_type,
                "location": response.location,
                "body": response.body,
                "now": record.created_at,
                "expires_at": record.expires_at,
                "purge": _PURGE_LIMIT,
            },
        )

    async def purge_expired(self, now: datetime, limit: int) -> int:
        rows = await self._db.execute(_PURGE, {"now": now, "limit": limit})
        return len(rows)
