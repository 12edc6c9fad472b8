"""The filing rules on their own: candidates and stored issues in, decisions out, no database."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from ops_monitor.analysis.candidates import Candidate, fingerprint
from ops_monitor.analysis.filing import merge, new_issue, plan_filing
from ops_monitor.models import IssueCategory, IssueRecord, IssueSeverity, IssueStatus

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
NOW = T0 + timedelta(days=1)


def micros(moment: datetime) -> int:
    return (moment - EPOCH) // timedelta(microseconds=1)


def candidate(
    *,
    seen: tuple[datetime, datetime] = (T0, T0 + timedelta(minutes=5)),
    occurrences: int = 3,
    severity: IssueSeverity = IssueSeverity.MEDIUM,
    samples: list[str] | None = None,
    evidence: dict[str, Any] | None = None,
) -> Candidate:
    return Candidate(
        fingerprint=fingerprint("error", "checkout", "t1"),
        rule="error",
        category=IssueCategory.STABILITY,
        severity=severity,
        source="checkout",
        template_id="t1",
        template="TimeoutError after <*> ms",
        title="TimeoutError in checkout",
        occurrences=occurrences,
        first_seen_us=micros(seen[0]),
        last_seen_us=micros(seen[1]),
        samples=samples if samples is not None else ["s1"],
        evidence=evidence if evidence is not None else {"levels": {"error": occurrences}},
    )


def stored(**changes: Any) -> IssueRecord:
    record = replace(new_issue(candidate(), scan_id=1, now=T0), id=7)
    return replace(record, **changes)


def test_a_candidate_without_a_stored_issue_files_a_new_one() -> None:
    found = candidate()
    plan = plan_filing([found], {}, recompute=False, scan_id=2, now=NOW)
    assert plan.updates == []
    [filed] = plan.inserts
    assert (filed.id, filed.status, filed.fingerprint) == (None, IssueStatus.NEW, found.fingerprint)
    assert (filed.first_seen, filed.last_seen) == (T0, T0 + timedelta(minutes=5))
    assert (filed.created_at, filed.last_scan_id) == (NOW, 2)
    assert plan.outcome.new_kinds == [("stability", "medium")]
    assert (plan.outcome.filed, plan.outcome.reopened) == (1, 0)


def test_a_new_issue_seen_later_is_ongoing_and_counts_add_up_on_incremental_scans() -> None:
    later = candidate(seen=(T0 + timedelta(hours=1), T0 + timedelta(hours=2)), occurrences=2)
    plan = plan_filing([later], {later.fingerprint: stored()}, recompute=False, scan_id=3, now=NOW)
    [merged] = plan.updates
    assert merged.id == 7
    assert merged.status is IssueStatus.ONGOING
    assert merged.occurrences == 5
    assert merged.evidence["levels"] == {"error": 5}
    assert (merged.first_seen, merged.last_seen) == (T0, T0 + timedelta(hours=2))
    assert (merged.updated_at, merged.last_scan_id) == (NOW, 3)
    assert plan.inserts == []
    assert plan.outcome.filed == 0


def test_a_new_issue_seen_again_within_its_known_span_stays_new() -> None:
    merged = merge(stored(), candidate(), recompute=False, scan_id=3, now=NOW)
    assert merged is not None
    assert merged.status is IssueStatus.NEW


def test_a_full_scan_recounts_instead_of_adding() -> None:
    merged = merge(
        stored(occurrences=3), candidate(occurrences=3), recompute=True, scan_id=3, now=NOW
    )
    assert merged is not None
    assert merged.occurrences == 3
    bigger = merge(
        stored(occurrences=3), candidate(occurrences=8), recompute=True, scan_id=3, now=NOW
    )
    assert bigger is not None
    assert bigger.occurrences == 8
    assert bigger.evidence["levels"] == {"error": 8}


def test_a_resolved_issue_that_recurs_after_its_resolution_is_regressed() -> None:
    resolved = stored(
        status=IssueStatus.RESOLVED, resolution="fixed", resolved_at=T0 + timedelta(hours=1)
    )
    again = candidate(seen=(T0 + timedelta(hours=2), T0 + timedelta(hours=3)))
    plan = plan_filing([again], {again.fingerprint: resolved}, recompute=False, scan_id=4, now=NOW)
    [merged] = plan.updates
    assert (merged.status, merged.resolution, merged.resolved_at) == (
        IssueStatus.REGRESSED,
        None,
        None,
    )
    assert plan.outcome.reopened_kinds == ["stability"]


def test_old_evidence_of_a_resolved_issue_changes_nothing() -> None:
    resolved = stored(
        status=IssueStatus.RESOLVED, resolution="fixed", resolved_at=T0 + timedelta(hours=1)
    )
    old = candidate(seen=(T0, T0 + timedelta(minutes=30)))
    plan = plan_filing([old], {old.fingerprint: resolved}, recompute=False, scan_id=4, now=NOW)
    assert (plan.inserts, plan.updates, plan.outcome.reopened) == ([], [], 0)


def test_severity_only_escalates() -> None:
    up = merge(
        stored(), candidate(severity=IssueSeverity.CRITICAL), recompute=False, scan_id=3, now=NOW
    )
    assert up is not None
    assert up.severity is IssueSeverity.CRITICAL
    high = stored(severity=IssueSeverity.HIGH)
    down = merge(high, candidate(severity=IssueSeverity.LOW), recompute=False, scan_id=3, now=NOW)
    assert down is not None
    assert down.severity is IssueSeverity.HIGH


def test_spike_windows_are_a_union_whatever_scan_saw_them() -> None:
    spike = stored(occurrences=2, evidence={"windows": [10, 11]})
    found = candidate(occurrences=2, evidence={"windows": [11, 12]})
    for recompute in (False, True):
        merged = merge(spike, found, recompute=recompute, scan_id=3, now=NOW)
        assert merged is not None
        assert merged.evidence["windows"] == [10, 11, 12]
        assert merged.occurrences == 3


def test_samples_keep_the_latest_five_without_repeats() -> None:
    merged = merge(
        stored(samples=["a", "b", "c", "d"]),
        candidate(samples=["c", "e", "f"]),
        recompute=False,
        scan_id=3,
        now=NOW,
    )
    assert merged is not None
    assert merged.samples == ["b", "c", "d", "e", "f"]


def test_the_stored_issue_is_never_changed_in_place() -> None:
    before = stored(evidence={"levels": {"error": 3}})
    merge(before, candidate(), recompute=False, scan_id=3, now=NOW)
    assert before.evidence == {"levels": {"error": 3}}
