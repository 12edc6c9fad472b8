"""Queries on `ops_issues`: reads, and the writes that apply what the filing rules decided.

One row per fingerprint, for ever. Which rows change, and how, is `analysis/filing.py`'s
decision; this module only reads and writes them.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, bindparam, case, select, update

from ops_monitor.models import Issue, IssueCategory, IssueRecord, IssueSeverity, IssueStatus
from ops_monitor.store.scans import as_utc, utc
from ops_monitor.store.schema import issues

OPEN_STATUSES = (IssueStatus.NEW, IssueStatus.ONGOING, IssueStatus.REGRESSED)


_CHUNK = 500  # fingerprints per query: well under every driver's bound-parameter limit


def by_fingerprint(connection: Connection, fingerprints: list[str]) -> dict[str, IssueRecord]:
    """The stored issues with these fingerprints, keyed by fingerprint."""
    found: dict[str, IssueRecord] = {}
    for start in range(0, len(fingerprints), _CHUNK):
        chunk = fingerprints[start : start + _CHUNK]
        for row in connection.execute(select(issues).where(issues.c.fingerprint.in_(chunk))):
            found[row.fingerprint] = to_record(row)
    return found


def insert_all(connection: Connection, records: list[IssueRecord]) -> None:
    """Insert new issues, one executemany per chunk: a scan touching many issues stays a few
    round trips."""
    for start in range(0, len(records), _CHUNK):
        chunk = records[start : start + _CHUNK]
        connection.execute(issues.insert(), [_insert_values(record) for record in chunk])


def update_all(connection: Connection, records: list[IssueRecord]) -> None:
    """Write the columns a merge changes back to stored issues (by id)."""
    for start in range(0, len(records), _CHUNK):
        chunk = records[start : start + _CHUNK]
        connection.execute(_UPDATE, [_update_values(record) for record in chunk])


_MERGED_COLUMNS = (
    "occurrences",
    "first_seen",
    "last_seen",
    "severity",
    "samples",
    "evidence",
    "template",
    "title",
    "updated_at",
    "last_scan_id",
    "status",
    "resolution",
    "resolved_at",
)
_UPDATE = (
    update(issues)
    .where(issues.c.id == bindparam("issue_id"))
    .values({name: bindparam(name) for name in _MERGED_COLUMNS})
)


def _columns(record: IssueRecord) -> dict[str, Any]:
    return {
        "fingerprint": record.fingerprint,
        "rule": record.rule,
        "title": record.title,
        "category": record.category.value,
        "severity": record.severity.value,
        "status": record.status.value,
        "source": record.source,
        "template_id": record.template_id,
        "template": record.template,
        "occurrences": record.occurrences,
        "first_seen": record.first_seen,
        "last_seen": record.last_seen,
        "samples": json.dumps(record.samples),
        "evidence": json.dumps(record.evidence),
        "created_at": record.created_at,
        "updated_at": record.updated_at,
        "last_scan_id": record.last_scan_id,
        "resolution": record.resolution,
        "resolved_at": record.resolved_at,
    }


def _insert_values(record: IssueRecord) -> dict[str, Any]:
    values = _columns(record)
    del values["resolution"], values["resolved_at"]  # a new issue is unresolved
    return values


def _update_values(record: IssueRecord) -> dict[str, Any]:
    values = _columns(record)
    return {"issue_id": record.id, **{name: values[name] for name in _MERGED_COLUMNS}}


def to_record(row: Row[Any]) -> IssueRecord:
    m = row._mapping
    return IssueRecord(
        id=int(m["id"]),
        fingerprint=m["fingerprint"],
        rule=m["rule"],
        title=m["title"],
        category=IssueCategory(m["category"]),
        severity=IssueSeverity(m["severity"]),
        status=IssueStatus(m["status"]),
        source=m["source"],
        template_id=m["template_id"],
        template=m["template"],
        occurrences=int(m["occurrences"]),
        first_seen=utc(m["first_seen"]),
        last_seen=utc(m["last_seen"]),
        samples=json.loads(m["samples"]),
        evidence=json.loads(m["evidence"]),
        created_at=utc(m["created_at"]),
        updated_at=utc(m["updated_at"]),
        last_scan_id=m["last_scan_id"],
        resolution=m["resolution"],
        resolved_at=as_utc(m["resolved_at"]),
    )


_SEVERITY_ORDER = case(
    {s.value: rank for rank, s in enumerate(IssueSeverity)}, value=issues.c.severity, else_=99
)


def listing(
    connection: Connection,
    limit: int,
    offset: int,
    *,
    status: IssueStatus | str | None,
    severity: IssueSeverity | str | None,
    category: IssueCategory | str | None,
    source: str | None,
) -> list[Issue]:
    c = issues.c
    query = select(issues)
    if status is None:
        query = query.where(c.status.in_([s.value for s in OPEN_STATUSES]))
    else:
        query = query.where(c.status == IssueStatus(status).value)
    if severity is not None:
        query = query.where(c.severity == IssueSeverity(severity).value)
    if category is not None:
        query = query.where(c.category == IssueCategory(category).value)
    if source is not None:
        query = query.where(c.source == source)
    query = query.order_by(_SEVERITY_ORDER, c.last_seen.desc(), c.id).limit(limit).offset(offset)
    return [to_issue(row) for row in connection.execute(query)]


def get(connection: Connection, issue_id: int) -> Issue | None:
    row = connection.execute(select(issues).where(issues.c.id == issue_id)).first()
    return None if row is None else to_issue(row)


def resolve(connection: Connection, issue_id: int, resolution: str, now: datetime) -> bool:
    changed = connection.execute(
        update(issues)
        .where(issues.c.id == issue_id)
        .values(
            status=IssueStatus.RESOLVED.value,
            resolution=resolution,
            resolved_at=now,
            updated_at=now,
        )
    )
    return bool(changed.rowcount)


def to_issue(row: Row[Any]) -> Issue:
    record = to_record(row)
    return Issue(**{name: getattr(record, name) for name in Issue.model_fields})
