"""Filing rules: how a scan's candidates change the stored issues. Pure, so they are tested
without a database; the store reads the issues they need and writes what they decide.

One issue per fingerprint, for ever:
* a candidate without a stored issue files a `new` one;
* a `new` issue seen again later than before becomes `ongoing`;
* a `resolved` issue whose problem recurs after its resolution is reopened as `regressed`;
  older evidence of a problem already fixed changes nothing;
* the severity only escalates (the more severe of stored and found);
* spike issues count distinct windows, the union of every scan's windows; other rules add the
  occurrences of an incremental scan, and take the larger count on a full scan (which re-reads
  the retention window, so adding would count old records twice).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from ops_monitor.analysis.candidates import SAMPLES_PER_ISSUE, Candidate, more_severe
from ops_monitor.models import IssueRecord, IssueStatus

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


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


@dataclass(frozen=True)
class FilingPlan:
    """What to write: issues to insert, stored issues to update, and what to count."""

    inserts: list[IssueRecord] = field(default_factory=list)
    updates: list[IssueRecord] = field(default_factory=list)
    outcome: FilingOutcome = field(default_factory=lambda: FilingOutcome([], []))


def plan_filing(
    candidates: Iterable[Candidate],
    stored: Mapping[str, IssueRecord],
    *,
    recompute: bool,
    scan_id: int,
    now: datetime,
) -> FilingPlan:
    """Decide, for each candidate, a new issue or the update of the stored one with its
    fingerprint. `recompute` (full scans): occurrences are the count over the window, not an
    increment, so re-reading old records never double counts."""
    plan = FilingPlan()
    for candidate in candidates:
        row = stored.get(candidate.fingerprint)
        if row is None:
            plan.inserts.append(new_issue(candidate, scan_id, now))
            plan.outcome.new_kinds.append((candidate.category.value, candidate.severity.value))
            continue
        merged = merge(row, candidate, recompute=recompute, scan_id=scan_id, now=now)
        if merged is None:
            continue
        if row.status is IssueStatus.RESOLVED:
            plan.outcome.reopened_kinds.append(candidate.category.value)
        plan.updates.append(merged)
    return plan


def _from_micros(micros: int) -> datetime:
    return _EPOCH + timedelta(microseconds=micros)


def new_issue(candidate: Candidate, scan_id: int, now: datetime) -> IssueRecord:
    return IssueRecord(
        id=None,
        fingerprint=candidate.fingerprint,
        rule=candidate.rule,
        title=candidate.title,
        category=candidate.category,
        severity=candidate.severity,
        status=IssueStatus.NEW,
        source=candidate.source,
        template_id=candidate.template_id,
        template=candidate.template,
        occurrences=candidate.occurrences,
        first_seen=_from_micros(candidate.first_seen_us),
        last_seen=_from_micros(candidate.last_seen_us),
        samples=list(candidate.samples),
        evidence=dict(candidate.evidence),
        created_at=now,
        updated_at=now,
        last_scan_id=scan_id,
    )


def merge(
    row: IssueRecord, candidate: Candidate, *, recompute: bool, scan_id: int, now: datetime
) -> IssueRecord | None:
    """The stored issue `row` with `candidate` merged in; None when nothing changes (old
    evidence of a problem already resolved)."""
    first_seen = _from_micros(candidate.first_seen_us)
    last_seen = _from_micros(candidate.last_seen_us)
    status = row.status
    resolved_at = row.resolved_at
    if status is IssueStatus.RESOLVED and (resolved_at is None or last_seen <= resolved_at):
        return None  # old evidence of a problem already fixed: nothing recurred
    evidence = dict(row.evidence)
    if "windows" in candidate.evidence:  # spikes count distinct windows, whatever scan saw them
        windows = sorted(set(evidence.get("windows", [])) | set(candidate.evidence["windows"]))
        evidence["windows"] = windows
        occurrences = len(windows)
    elif recompute:
        occurrences = max(row.occurrences, candidate.occurrences)
        evidence["levels"] = candidate.evidence.get("levels", {})
    else:
        occurrences = row.occurrences + candidate.occurrences
        levels = dict(evidence.get("levels", {}))
        for level, count in candidate.evidence.get("levels", {}).items():
            levels[level] = levels.get(level, 0) + count
        evidence["levels"] = levels
    fresh = [s for s in candidate.samples if s not in row.samples]
    merged = replace(
        row,
        occurrences=occurrences,
        first_seen=min(row.first_seen, first_seen),
        last_seen=max(row.last_seen, last_seen),
        severity=more_severe(row.severity, candidate.severity),
        samples=(row.samples + fresh)[-SAMPLES_PER_ISSUE:],
        evidence=evidence,
        template=candidate.template,
        title=candidate.title,
        updated_at=now,
        last_scan_id=scan_id,
    )
    if status is IssueStatus.RESOLVED:
        return replace(merged, status=IssueStatus.REGRESSED, resolution=None, resolved_at=None)
    if status is IssueStatus.NEW and last_seen > row.last_seen:
        return replace(merged, status=IssueStatus.ONGOING)
    return merged
