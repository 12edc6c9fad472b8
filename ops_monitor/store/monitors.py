"""Queries on the cron monitors' tables. Rows in, rows out: the rules are `ops_monitor.monitors`.

A monitor's row is read `FOR UPDATE` inside the write transaction that changes it (PostgreSQL; on
SQLite the transaction's `BEGIN IMMEDIATE` already serialises writers), so two check-ins of one
monitor arriving together never lose each other's update.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, bindparam, func, select, update

from ops_monitor.store.monitor_schema import checkins, monitors
from ops_monitor.store.schema import issues

OPEN_ISSUE_STATUSES = ("new", "ongoing", "regressed")
_CHUNK = 500
_SAVED_COLUMNS = (
    "config",
    "state",
    "state_since",
    "last_outcome",
    "paused",
    "next_expected",
    "evaluated_at",
    "last_checkin_at",
    "consecutive_failures",
    "consecutive_ok",
    "incident",
    "updated_at",
)


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


def store_runs_of(connection: Connection, runs: Sequence[tuple[int, Mapping[str, Any]]]) -> None:
    """`store_runs` for many monitors at once: new runs in one executemany."""
    by_monitor: dict[int, list[Mapping[str, Any]]] = {}
    for monitor_id, values in runs:
        by_monitor.setdefault(monitor_id, []).append(values)
    if not by_monitor:
        return
    existing: set[tuple[int, str]] = set()
    ids = list(by_monitor)
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        named = {str(row["checkin_id"]) for monitor_id in chunk for row in by_monitor[monitor_id]}
        query = select(checkins.c.monitor_id, checkins.c.checkin_id).where(
            checkins.c.monitor_id.in_(chunk), checkins.c.checkin_id.in_(sorted(named))
        )
        existing |= {(int(m), str(c)) for m, c in connection.execute(query)}
    inserts: list[dict[str, Any]] = []
    for monitor_id, written in by_monitor.items():
        latest = {row["checkin_id"]: row for row in written}
        for checkin_id, row in latest.items():
            if (monitor_id, checkin_id) in existing:
                connection.execute(
                    update(checkins)
                    .where(checkins.c.monitor_id == monitor_id, checkins.c.checkin_id == checkin_id)
                    .values(**row)
                )
            else:
                inserts.append({"monitor_id": monitor_id, **row})
    for start in range(0, len(inserts), _CHUNK):
        connection.execute(checkins.insert(), inserts[start : start + _CHUNK])


_SAVE = (
    update(monitors)
    .where(monitors.c.id == bindparam("monitor_id"))
    .values({name: bindparam(name) for name in _SAVED_COLUMNS})
)


def save_all(connection: Connection, saved: Sequence[tuple[int, Mapping[str, Any]]]) -> None:
    """Write many monitors' evaluation state, one executemany."""
    if saved:
        connection.execute(
            _SAVE, [{"monitor_id": monitor_id, **values} for monitor_id, values in saved]
        )


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
