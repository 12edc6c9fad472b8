"""Queries on `ops_alert_deliveries`: one row per (event, target), its attempts and outcome."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Connection, Row, select, update
from sqlalchemy.exc import IntegrityError

from ops_monitor.store.scans import utc
from ops_monitor.store.schema import alert_deliveries


class Delivery(BaseModel):
    id: int
    created_at: datetime
    updated_at: datetime
    event: str
    subject: str
    target: str
    kind: str
    status: str  # pending, delivered, failed, throttled
    attempts: int
    response_status: int | None = None
    error: str | None = None


def claim(
    connection: Connection,
    *,
    event: str,
    subject: str,
    dedupe_key: str,
    target: str,
    kind: str,
    status: str,
    payload: str,
    now: datetime,
) -> int | None:
    """Insert the delivery, or None when one with this key exists (sent by someone already)."""
    try:
        with connection.begin_nested():
            result = connection.execute(
                alert_deliveries.insert().values(
                    created_at=now,
                    updated_at=now,
                    event=event,
                    subject=subject,
                    dedupe_key=dedupe_key,
                    target=target,
                    kind=kind,
                    status=status,
                    attempts=0,
                    payload=payload,
                )
            )
    except IntegrityError:
        return None
    return int(result.inserted_primary_key[0])  # type: ignore[index]


def sent_recently(connection: Connection, subject: str, target: str, since: datetime) -> bool:
    """Whether this subject was delivered (or is being delivered) to the target since `since`."""
    d = alert_deliveries.c
    found = connection.execute(
        select(d.id)
        .where(
            d.subject == subject,
            d.target == target,
            d.status.in_(("pending", "delivered")),
            d.created_at >= since,
        )
        .limit(1)
    ).first()
    return found is not None


def finish(
    connection: Connection,
    delivery_id: int,
    *,
    status: str,
    attempts: int,
    response_status: int | None,
    error: str | None,
    now: datetime,
) -> None:
    connection.execute(
        update(alert_deliveries)
        .where(alert_deliveries.c.id == delivery_id)
        .values(
            status=status,
            attempts=attempts,
            response_status=response_status,
            error=error,
            updated_at=now,
        )
    )


def recent(connection: Connection, limit: int, subject: str | None = None) -> list[Delivery]:
    d = alert_deliveries.c
    query = select(alert_deliveries).order_by(d.id.desc()).limit(limit)
    if subject is not None:
        query = query.where(d.subject == subject)
    return [_delivery(row) for row in connection.execute(query)]


def _delivery(row: Row[Any]) -> Delivery:
    return Delivery(
        id=int(row.id),
        created_at=utc(row.created_at),
        updated_at=utc(row.updated_at),
        event=row.event,
        subject=row.subject,
        target=row.target,
        kind=row.kind,
        status=row.status,
        attempts=int(row.attempts),
        response_status=row.response_status,
        error=row.error,
    )


def throttle_start(now: datetime, seconds: float) -> datetime:
    return now - timedelta(seconds=seconds)
