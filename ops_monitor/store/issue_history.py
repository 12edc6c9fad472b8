"""Queries on an issue's history (`ops_issue_events`), its ignore rule, and its occurrences.

Occurrences over time are counted from the stored records themselves, matched the way the rule
that filed the issue matched them (source, level or duration or outcome, and the template with
its `<*>` as wildcards), so the chart shows when the problem happened, not when it was scanned.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Row,
    String,
    cast,
    delete,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from ops_monitor.models import Issue, IssueSeverity, IssueStatus
from ops_monitor.store.issues import OPEN_STATUSES, to_issue
from ops_monitor.store.logs import to_micros
from ops_monitor.store.scans import as_utc, utc
from ops_monitor.store.schema import issue_events, issue_ignores, issues, operation_logs
from ops_monitor.views.issue_history import EventKind, IgnoreRule, IssueEvent, IssueSort, IssueState

WILDCARD = "<*>"
ERROR_LEVELS = ("error", "critical", "fatal")


def history(connection: Connection, issue_id: int) -> list[IssueEvent]:
    e = issue_events.c
    rows = connection.execute(select(issue_events).where(e.issue_id == issue_id).order_by(e.seq))
    return [_event(row) for row in rows]


def latest_events(connection: Connection, issue_ids: Sequence[int]) -> dict[int, IssueEvent]:
    """Each issue's most recent event, for those that have one."""
    e = issue_events.c
    found: dict[int, IssueEvent] = {}
    for start in range(0, len(issue_ids), 500):
        chunk = list(issue_ids[start : start + 500])
        newest = (
            select(e.issue_id, func.max(e.seq).label("seq"))
            .where(e.issue_id.in_(chunk))
            .group_by(e.issue_id)
            .subquery()
        )
        rows = connection.execute(
            select(issue_events).join(
                newest, (newest.c.issue_id == e.issue_id) & (newest.c.seq == e.seq)
            )
        )
        found.update((int(row.issue_id), _event(row)) for row in rows)
    return found


def last_of_kind(connection: Connection, issue_id: int, kind: EventKind) -> IssueEvent | None:
    e = issue_events.c
    row = connection.execute(
        select(issue_events)
        .where(e.issue_id == issue_id, e.kind == kind.value)
        .order_by(e.seq.desc())
        .limit(1)
    ).first()
    return None if row is None else _event(row)


def record(
    connection: Connection,
    issue_id: int,
    kind: EventKind,
    at: datetime,
    occurrences: int,
    detail: str = "",
    *,
    after_seq: int | None = None,
) -> IssueEvent | None:
    """Append an event. With `after_seq`, only if the issue's last event is still that one
    (None: no event yet): two processes noticing the same change record it once. Returns the
    event, or None when another writer got there first."""
    e = issue_events.c
    current = connection.scalar(select(func.max(e.seq)).where(e.issue_id == issue_id))
    current_seq = int(current) if current is not None else 0
    expected = after_seq if after_seq is not None else current_seq
    if current_seq != expected:
        return None
    event = IssueEvent(
        issue_id=issue_id,
        seq=current_seq + 1,
        at=at,
        kind=kind,
        occurrences=occurrences,
        detail=detail,
    )
    try:
        with connection.begin_nested():
            connection.execute(issue_events.insert().values(**event.model_dump()))
    except IntegrityError:
        return None
    return event


def _event(row: Row[Any]) -> IssueEvent:
    return IssueEvent(
        issue_id=int(row.issue_id),
        seq=int(row.seq),
        at=utc(row.at),
        kind=EventKind(row.kind),
        occurrences=int(row.occurrences),
        detail=row.detail or "",
    )


# ---------------------------------------------------------------- ignore rules
def ignore(connection: Connection, issue_id: int, rule: IgnoreRule) -> None:
    connection.execute(delete(issue_ignores).where(issue_ignores.c.issue_id == issue_id))
    connection.execute(
        issue_ignores.insert().values(
            issue_id=issue_id,
            created_at=rule.created_at,
            until_at=rule.until,
            until_occurrences=rule.until_occurrences,
        )
    )


def unignore(connection: Connection, issue_id: int) -> bool:
    gone = connection.execute(delete(issue_ignores).where(issue_ignores.c.issue_id == issue_id))
    return bool(gone.rowcount)


def ignore_rules(connection: Connection, issue_ids: Iterable[int]) -> dict[int, IgnoreRule]:
    ids = list(issue_ids)
    if not ids:
        return {}
    g = issue_ignores.c
    found: dict[int, IgnoreRule] = {}
    for start in range(0, len(ids), 500):
        rows = connection.execute(
            select(issue_ignores).where(g.issue_id.in_(ids[start : start + 500]))
        )
        found.update((int(row.issue_id), _rule(row)) for row in rows)
    return found


def all_ignore_rules(connection: Connection) -> dict[int, IgnoreRule]:
    return {int(row.issue_id): _rule(row) for row in connection.execute(select(issue_ignores))}


def _rule(row: Row[Any]) -> IgnoreRule:
    return IgnoreRule(
        created_at=utc(row.created_at),
        until=as_utc(row.until_at),
        until_occurrences=None if row.until_occurrences is None else int(row.until_occurrences),
    )


def reopen(connection: Connection, issue_id: int, now: datetime) -> bool:
    """A resolved issue back to ongoing (its resolution dropped)."""
    changed = connection.execute(
        update(issues)
        .where(issues.c.id == issue_id, issues.c.status == IssueStatus.RESOLVED.value)
        .values(status=IssueStatus.ONGOING.value, resolution=None, resolved_at=None, updated_at=now)
    )
    return bool(changed.rowcount)


# ---------------------------------------------------------------- listing
_SORTS: dict[str, Any] = {
    "last_seen": (issues.c.last_seen.desc(), issues.c.id.desc()),
    "first_seen": (issues.c.first_seen.desc(), issues.c.id.desc()),
    "count": (issues.c.occurrences.desc(), issues.c.id.desc()),
}


def listing(
    connection: Connection,
    *,
    state: IssueState,
    severity: IssueSeverity | None,
    source: str | None,
    text: str | None,
    sort: IssueSort,
    limit: int,
    offset: int,
) -> list[tuple[Issue, IgnoreRule | None]]:
    """Issues with their ignore rules. `open` hides ignored issues; `ignored` shows only them."""
    c = issues.c
    ignored_ids = select(issue_ignores.c.issue_id)
    query = select(issues)
    if state == "open":
        query = query.where(
            c.status.in_([s.value for s in OPEN_STATUSES]), c.id.not_in(ignored_ids)
        )
    elif state == "ignored":
        query = query.where(c.id.in_(ignored_ids))
    elif state != "all":
        query = query.where(c.status == state)
    if severity is not None:
        query = query.where(c.severity == severity.value)
    if source:
        query = query.where(c.source == source)
    if text:
        query = query.where(
            or_(
                c.title.icontains(text, autoescape=True),
                c.template.icontains(text, autoescape=True),
                c.fingerprint.startswith(text.lower(), autoescape=True),
                cast(c.id, String) == text.strip(),
            )
        )
    if sort == "severity":
        order = (_severity_rank(), c.last_seen.desc(), c.id.desc())
    else:
        order = _SORTS[sort]
    rows = list(connection.execute(query.order_by(*order).limit(limit).offset(offset)))
    found = [to_issue(row) for row in rows]
    rules = ignore_rules(connection, [issue.id for issue in found])
    return [(issue, rules.get(issue.id)) for issue in found]


def _severity_rank() -> ColumnElement[int]:
    from sqlalchemy import case

    return case(
        {s.value: rank for rank, s in enumerate(IssueSeverity)}, value=issues.c.severity, else_=99
    )


def rows_updated_since(connection: Connection, since: datetime, limit: int) -> list[Row[Any]]:
    c = issues.c
    return list(
        connection.execute(
            select(issues).where(c.updated_at >= since).order_by(c.updated_at, c.id).limit(limit)
        )
    )


def row(connection: Connection, issue_id: int) -> Row[Any] | None:
    return connection.execute(select(issues).where(issues.c.id == issue_id)).first()


def sources(connection: Connection, limit: int = 200) -> list[str]:
    query = select(issues.c.source).distinct().order_by(issues.c.source).limit(limit)
    return list(connection.scalars(query))


# ---------------------------------------------------------------- occurrences over time
def like_pattern(template: str) -> str:
    """The template as a LIKE pattern (escape `\\`): `<*>` is any text; a prefix the miner cut
    off (a header) or a suffix may surround it."""
    parts = [_escape(part) for part in template.split(WILDCARD)]
    return "%" + "%".join(parts) + "%"


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def occurrence_conditions(issue_row: Row[Any], slow_ms: float) -> list[ColumnElement[bool]] | None:
    """How the records of this issue are found, or None when its rule counts windows, not
    records (spikes)."""
    c = operation_logs.c
    where: list[ColumnElement[bool]] = [c.source == issue_row.source]
    rule = issue_row.rule
    if rule == "error":
        where.append(or_(c.level.in_(ERROR_LEVELS), c.outcome == "exception"))
        where.append(c.message.like(like_pattern(issue_row.template), escape="\\"))
    elif rule == "slow-request":
        where.append(c.duration_ms > slow_ms)
        where.append(c.message.like(like_pattern(issue_row.template), escape="\\"))
    elif rule == "limit-exceeded":
        where.append(or_(c.outcome == issue_row.template, c.level.in_(ERROR_LEVELS)))
    elif rule == "error-spike":
        where.append(c.level.in_(ERROR_LEVELS))
    else:
        return None
    return where


def occurrence_times(
    connection: Connection,
    issue_row: Row[Any],
    start: datetime,
    end: datetime,
    slow_ms: float,
    limit: int,
) -> list[int] | None:
    """Timestamps (µs) of the issue's records in [start, end], newest first, at most `limit`."""
    where = occurrence_conditions(issue_row, slow_ms)
    if where is None:
        return None
    c = operation_logs.c
    query = (
        select(c.ts)
        .where(*where, c.ts >= to_micros(start), c.ts <= to_micros(end))
        .order_by(c.ts.desc())
        .limit(limit)
    )
    return [int(ts) for ts in connection.scalars(query)]


def latest_records(
    connection: Connection, issue_row: Row[Any], slow_ms: float, limit: int
) -> list[Row[Any]]:
    """The issue's most recent stored records, whole (message and attributes)."""
    where = occurrence_conditions(issue_row, slow_ms)
    if where is None:
        return []
    c = operation_logs.c
    end = to_micros(utc(issue_row.last_seen)) + 1
    query = (
        select(operation_logs)
        .where(*where, c.ts <= end)
        .order_by(c.ts.desc(), c.id.desc())
        .limit(limit)
    )
    return list(connection.execute(query))
