"""Queries on `ops_scans`, the cursors and the saved analysis state."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Row, select, update
from sqlalchemy.exc import IntegrityError

from ops_monitor.models import ScanFilters, ScanResult
from ops_monitor.store.schema import cursors, scans, state

INTERRUPTED = "interrupted: the process running the scan ended before it finished"
UNFILTERED = "{}"  # how `insert_running` stores ScanFilters() (exclude_none)
# ops_state rows "scheduler.started:<sha256 of the schedule name>": {"schedule": name, "at": ISO}
SCHEDULER_START_PREFIX = "scheduler.started:"


def utc(moment: datetime) -> datetime:
    """SQLite hands timestamps back naive; every stored time is UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def as_utc(moment: datetime | None) -> datetime | None:
    return None if moment is None else utc(moment)


def insert_running(
    connection: Connection, scope: str, trigger: str, started_at: datetime, filters: ScanFilters
) -> int:
    result = connection.execute(
        scans.insert().values(
            scope=scope,
            status="running",
            trigger=trigger,
            started_at=started_at,
            filters=filters.model_dump_json(exclude_none=True),
            malformed_samples="[]",
            logs_processed=0,
            issues_found=0,
            issues_filed=0,
            issues_reopened=0,
            malformed_lines=0,
        )
    )
    return int(result.inserted_primary_key[0])  # type: ignore[index]


def running_id(connection: Connection) -> int | None:
    found = connection.scalar(select(scans.c.id).where(scans.c.status == "running"))
    return None if found is None else int(found)


def fail_running(connection: Connection, finished_at: datetime, error: str) -> list[int]:
    """Mark scans left `running` as failed (their process died); returns their ids."""
    ids = [
        int(i) for i in connection.scalars(select(scans.c.id).where(scans.c.status == "running"))
    ]
    if ids:
        connection.execute(
            update(scans)
            .where(scans.c.id.in_(ids))
            .values(status="failed", finished_at=finished_at, error=error)
        )
    return ids


def finish(connection: Connection, scan_id: int, **values: Any) -> None:
    if "malformed_samples" in values:
        values["malformed_samples"] = json.dumps(values["malformed_samples"])
    connection.execute(update(scans).where(scans.c.id == scan_id).values(**values))


def get(connection: Connection, scan_id: int) -> ScanResult:
    row = connection.execute(select(scans).where(scans.c.id == scan_id)).one()
    return to_result(row)


def recent(
    connection: Connection,
    limit: int,
    scope: str | None = None,
    trigger: str | None = None,
    status: str | None = None,
) -> list[ScanResult]:
    query = select(scans).order_by(scans.c.id.desc()).limit(limit)
    if scope is not None:
        query = query.where(scans.c.scope == scope)
    if trigger is not None:
        query = query.where(scans.c.trigger == trigger)
    if status is not None:
        query = query.where(scans.c.status == status)
    return [to_result(row) for row in connection.execute(query)]


def last_success(connection: Connection, scopes: Collection[str]) -> ScanResult | None:
    """The latest completed, unfiltered scan of one of `scopes`, whatever started it. A filtered
    scan read only part of the records, so it answers no schedule."""
    row = connection.execute(
        select(scans)
        .where(
            scans.c.status == "completed",
            scans.c.scope.in_(list(scopes)),
            scans.c.filters == UNFILTERED,
        )
        .order_by(scans.c.id.desc())
        .limit(1)
    ).first()
    return None if row is None else to_result(row)


def scheduler_starts(connection: Connection) -> dict[str, datetime]:
    """Schedule name -> when a scheduler running it last started (see `record_scheduler_start`)."""
    starts: dict[str, datetime] = {}
    rows = connection.execute(
        select(state.c.value).where(state.c.name.startswith(SCHEDULER_START_PREFIX))
    )
    for (value,) in rows:
        try:
            data = json.loads(value)
            starts[str(data["schedule"])] = utc(datetime.fromisoformat(str(data["at"])))
        except (ValueError, KeyError, TypeError):
            continue  # a hand-edited row: that schedule reads as never started
    return starts


def record_scheduler_start(connection: Connection, names: Iterable[str], at: datetime) -> None:
    """Remember that a scheduler running the schedules `names` started at `at`: cron status
    counts due ticks from then, so a fresh deployment is not late for ticks before it existed.
    One row per schedule, so replicas starting together never overwrite each other's names."""
    for name in names:
        digest = hashlib.sha256(name.encode()).hexdigest()[:32]
        value = json.dumps({"schedule": name, "at": utc(at).isoformat()})
        _upsert_state(connection, SCHEDULER_START_PREFIX + digest, value)


def _upsert_state(connection: Connection, name: str, value: str) -> None:
    """Set a state row whether or not it exists, even when another process inserts it at the
    same moment (the insert then fails inside its savepoint and the update wins)."""
    if update_state(connection, name, value):
        return
    try:
        with connection.begin_nested():
            connection.execute(state.insert().values(name=name, value=value))
    except IntegrityError:
        update_state(connection, name, value)


def update_state(connection: Connection, name: str, value: str) -> bool:
    changed = connection.execute(update(state).where(state.c.name == name).values(value=value))
    return bool(changed.rowcount)


def to_result(row: Row[Any]) -> ScanResult:
    m = row._mapping
    return ScanResult(
        id=int(m["id"]),
        scope=m["scope"],
        status=m["status"],
        trigger=m["trigger"],
        started_at=utc(m["started_at"]),
        finished_at=as_utc(m["finished_at"]),
        logs_processed=int(m["logs_processed"]),
        issues_found=int(m["issues_found"]),
        issues_filed=int(m["issues_filed"]),
        issues_reopened=int(m["issues_reopened"]),
        malformed_lines=int(m["malformed_lines"]),
        malformed_samples=json.loads(m["malformed_samples"] or "[]"),
        error=m["error"],
    )


def get_cursor(connection: Connection, name: str) -> int:
    found = connection.scalar(select(cursors.c.position).where(cursors.c.name == name))
    return 0 if found is None else int(found)


def set_cursor(connection: Connection, name: str, position: int) -> None:
    now = datetime.now(UTC)
    changed = connection.execute(
        update(cursors).where(cursors.c.name == name).values(position=position, updated_at=now)
    )
    if not changed.rowcount:
        connection.execute(cursors.insert().values(name=name, position=position, updated_at=now))


def get_state(connection: Connection, name: str) -> str | None:
    return connection.scalar(select(state.c.value).where(state.c.name == name))


def set_state(connection: Connection, name: str, value: str) -> None:
    changed = connection.execute(update(state).where(state.c.name == name).values(value=value))
    if not changed.rowcount:
        connection.execute(state.insert().values(name=name, value=value))
