"""Queries on the cron monitors' tables. Rows in, rows out: the rules are `ops_monitor.monitors`.

A monitor's row is read `FOR UPDATE` inside the write transaction that changes it (PostgreSQL; on
SQLite the transaction's `BEGIN IMMEDIATE` already serialises writers), so two check-ins of one
monitor arriving together never lose each other's update.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, func, select, update

from ops_monitor.store.monitor_schema import checkins, monitors
from ops_monitor.store.schema import issues

OPEN_ISSUE_STATUSES = ("new", "ongoing", "regressed")


def get(connection: Connection, slug: str, *, lock: bool = False) -> Row[Any] | None:
    query = select(monitors).where(monitors.c.slug == slug)
    return connection.execute(query.with_for_update() if lock else query).first()


def by_key(connection: Connection, key: str, *, lock: bool = False) -> Row[Any] | None:
    query = select(monitors).where(monitors.c.ping_key == key)
    return connection.execute(query.with_for_update() if lock else query).first()


def listing(connection: Connection, *, lock: bool = False) -> list[Row[Any]]:
    query = select(monitors).order_by(monitors.c.slug)
    return list(connection.execute(query.with_for_update() if lock else query))


def insert(connection: Connection, values: Mapping[str, Any]) -> int:
    result = connection.execute(monitors.insert().values(**values))
    key = result.inserted_primary_key
    assert key is not None  # noqa: S101 - an insert always has one
    return int(key[0])


def save(connection: Connection, monitor_id: int, values: Mapping[str, Any]) -> None:
    connection.execute(update(monitors).where(monitors.c.id == monitor_id).values(**values))


def open_runs(connection: Connection, monitor_id: int) -> list[Row[Any]]:
    query = select(checkins).where(
        checkins.c.monitor_id == monitor_id, checkins.c.status == "in_progress"
    )
    return list(connection.execute(query.order_by(checkins.c.id)))


def open_runs_by_monitor(connection: Connection) -> dict[int, list[Row[Any]]]:
    """Every run in progress, by monitor (one query for an evaluation of them all)."""
    found: dict[int, list[Row[Any]]] = {}
    query = select(checkins).where(checkins.c.status == "in_progress").order_by(checkins.c.id)
    for row in connection.execute(query):
        found.setdefault(int(row.monitor_id), []).append(row)
    return found


def mark_evaluated(connection: Connection, monitor_ids: Sequence[int], at: datetime) -> None:
    for start in range(0, len(monitor_ids), 500):
        chunk = list(monitor_ids[start : start + 500])
        connection.execute(update(monitors).where(monitors.c.id.in_(chunk)).values(evaluated_at=at))


def run(connection: Connection, monitor_id: int, checkin_id: str) -> Row[Any] | None:
    query = select(checkins).where(
        checkins.c.monitor_id == monitor_id, checkins.c.checkin_id == checkin_id
    )
    return connection.execute(query).first()


def store_runs(connection: Connection, monitor_id: int, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert each run, or update the stored one with its check-in id (the later row wins)."""
    latest = {row["checkin_id"]: row for row in rows}
    if not latest:
        return
    existing = set(
        connection.scalars(
            select(checkins.c.checkin_id).where(
                checkins.c.monitor_id == monitor_id, checkins.c.checkin_id.in_(list(latest))
            )
        )
    )
    for checkin_id, row in latest.items():
        if checkin_id in existing:
            connection.execute(
                update(checkins)
                .where(checkins.c.monitor_id == monitor_id, checkins.c.checkin_id == checkin_id)
                .values(**row)
            )
        else:
            connection.execute(checkins.insert().values(monitor_id=monitor_id, **row))


def recent_runs(connection: Connection, monitor_id: int, limit: int) -> list[Row[Any]]:
    query = (
        select(checkins)
        .where(checkins.c.monitor_id == monitor_id)
        .order_by(checkins.c.at.desc(), checkins.c.id.desc())
        .limit(limit)
    )
    return list(connection.execute(query))


def counts_since(
    connection: Connection, monitor_ids: Iterable[int], since: datetime
) -> dict[int, dict[str, int]]:
    """Expected runs per monitor and status recorded at or after `since`."""
    ids = list(monitor_ids)
    if not ids:
        return {}
    query = (
        select(checkins.c.monitor_id, checkins.c.status, func.sum(checkins.c.slots))
        .where(checkins.c.monitor_id.in_(ids), checkins.c.at >= since)
        .group_by(checkins.c.monitor_id, checkins.c.status)
    )
    found: dict[int, dict[str, int]] = {}
    for monitor_id, status, count in connection.execute(query):
        found.setdefault(int(monitor_id), {})[str(status)] = int(count or 0)
    return found


def open_issue_ids(connection: Connection, fingerprints: Sequence[str]) -> list[int]:
    query = select(issues.c.id).where(
        issues.c.fingerprint.in_(list(fingerprints)), issues.c.status.in_(OPEN_ISSUE_STATUSES)
    )
    return [int(value) for value in connection.scalars(query)]
