"""Queries on `ops_issues`, and the merge that makes filing idempotent.

One row per fingerprint, for ever: a candidate updates the row it matches (occurrences,
last-seen, severity, samples), a resolved row whose problem recurs after its resolution is
reopened as `regressed`, and a candidate without a row becomes a `new` issue.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, bindparam, case, select, update

from ops_monitor.analysis.candidates import SAMPLES_PER_ISSUE, Candidate, more_severe
from ops_monitor.models import Issue, IssueCategory, IssueSeverity, IssueStatus
from ops_monitor.store.logs import from_micros
from ops_monitor.store.scans import as_utc, utc
from ops_monitor.store.schema import issues

OPEN_STATUSES = (IssueStatus.NEW, IssueStatus.ONGOING, IssueStatus.REGRESSED)


@dataclass(frozen=True)
class FilingOutcome:
    new_kinds: list[tuple[str, str]]  # (category, severity) of each issue filed
    reopened_kinds: list[str]  # category of each issue reopened

    @property
    def filed(self) -> int:
        return len(self.new_kinds)

    @property
    def reopened(self) -> int:
        return len(self.reopened_kinds)


def file_candidates(
    connection: Connection,
    candidates: list[Candidate],
    *,
    recompute: bool,
    scan_id: int,
    now: datetime,
) -> FilingOutcome:
    """Merge candidates into the stored issues. `recompute` (full scans): occurrences are the
    count over the window, not an increment, so re-reading old records never double counts."""
    outcome = FilingOutcome([], [])
    c = issues.c
    for chunk_start in range(0, len(candidates), 500):
        chunk = candidates[chunk_start : chunk_start + 500]
        existing = {
            row.fingerprint: row
            for row in connection.execute(
                select(issues).where(c.fingerprint.in_([k.fingerprint for k in chunk]))
            )
        }
        inserts: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        for candidate in chunk:
            row = existing.get(candidate.fingerprint)
            if row is None:
                inserts.append(_new_issue(candidate, scan_id, now))
                outcome.new_kinds.append((candidate.category.value, candidate.severity.value))
                continue
            values, was_reopened = _merge(
                row, candidate, recompute=recompute, scan_id=scan_id, now=now
            )
            if was_reopened:
                outcome.reopened_kinds.append(candidate.category.value)
            if values:
                updates.append({"issue_id": row.id, **values})
        if inserts:  # one executemany each: a scan touching many issues stays one round trip
            connection.execute(issues.insert(), inserts)
        if updates:
            connection.execute(_UPDATE, updates)
    return outcome


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


def _new_issue(candidate: Candidate, scan_id: int, now: datetime) -> dict[str, Any]:
    return {
        "fingerprint": candidate.fingerprint,
        "rule": candidate.rule,
        "title": candidate.title,
        "category": candidate.category.value,
        "severity": candidate.severity.value,
        "status": IssueStatus.NEW.value,
        "source": candidate.source,
        "template_id": candidate.template_id,
        "template": candidate.template,
        "occurrences": candidate.occurrences,
        "first_seen": from_micros(candidate.first_seen_us),
        "last_seen": from_micros(candidate.last_seen_us),
        "samples": json.dumps(candidate.samples),
        "evidence": json.dumps(candidate.evidence),
        "created_at": now,
        "updated_at": now,
        "last_scan_id": scan_id,
    }


def _merge(
    row: Row[Any], candidate: Candidate, *, recompute: bool, scan_id: int, now: datetime
) -> tuple[dict[str, Any], bool]:
    first_seen = from_micros(candidate.first_seen_us)
    last_seen = from_micros(candidate.last_seen_us)
    stored_first = utc(row.first_seen)
    stored_last = utc(row.last_seen)
    status = IssueStatus(row.status)
    resolved_at = as_utc(row.resolved_at)
    if status is IssueStatus.RESOLVED and (resolved_at is None or last_seen <= resolved_at):
        return {}, False  # old evidence of a problem already fixed: nothing recurred
    evidence = json.loads(row.evidence)
    if "windows" in candidate.evidence:  # spikes count distinct windows, whatever scan saw them
        windows = sorted(set(evidence.get("windows", [])) | set(candidate.evidence["windows"]))
        evidence["windows"] = windows
        occurrences = len(windows)
    elif recompute:
        occurrences = max(int(row.occurrences), candidate.occurrences)
        evidence["levels"] = candidate.evidence.get("levels", {})
    else:
        occurrences = int(row.occurrences) + candidate.occurrences
        levels = evidence.setdefault("levels", {})
        for level, count in candidate.evidence.get("levels", {}).items():
            levels[level] = levels.get(level, 0) + count
    samples = json.loads(row.samples)
    fresh = [s for s in candidate.samples if s not in samples]
    samples = (samples + fresh)[-SAMPLES_PER_ISSUE:]
    values: dict[str, Any] = {
        "occurrences": occurrences,
        "first_seen": min(stored_first, first_seen),
        "last_seen": max(stored_last, last_seen),
        "severity": more_severe(IssueSeverity(row.severity), candidate.severity).value,
        "samples": json.dumps(samples),
        "evidence": json.dumps(evidence),
        "template": candidate.template,
        "title": candidate.title,
        "updated_at": now,
        "last_scan_id": scan_id,
    }
    values.update(status=status.value, resolution=row.resolution, resolved_at=row.resolved_at)
    reopened = False
    if status is IssueStatus.RESOLVED:
        values.update(status=IssueStatus.REGRESSED.value, resolution=None, resolved_at=None)
        reopened = True
    elif status is IssueStatus.NEW and last_seen > stored_last:
        values["status"] = IssueStatus.ONGOING.value
    return values, reopened


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
    m = row._mapping
    return Issue(
        id=int(m["id"]),
        fingerprint=m["fingerprint"],
        title=m["title"],
        category=IssueCategory(m["category"]),
        severity=IssueSeverity(m["severity"]),
        status=IssueStatus(m["status"]),
        source=m["source"],
        template=m["template"],
        occurrences=int(m["occurrences"]),
        first_seen=utc(m["first_seen"]),
        last_seen=utc(m["last_seen"]),
        samples=json.loads(m["samples"]),
        resolution=m["resolution"],
        resolved_at=as_utc(m["resolved_at"]),
    )
