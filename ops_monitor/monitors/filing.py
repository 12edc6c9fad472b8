"""A monitor's failures as issue candidates, filed by the same merge as log issues.

One fingerprint per (kind, monitor): the first failure of an incident files a `new` issue, later
ones make it `ongoing`, and a failure after recovery reopens it as `regressed`.
"""

from __future__ import annotations

from ops_monitor.analysis.candidates import SAMPLES_PER_ISSUE, Candidate, fingerprint
from ops_monitor.models import IssueCategory, IssueSeverity
from ops_monitor.monitors.machine import FAILURE_KINDS, Failure

TEMPLATE_ID = "cron-monitor"
_WHAT = {
    "cron-missed": "missed a run",
    "cron-failed": "reported a failed run",
    "cron-timeout": "ran longer than its max_runtime",
}
_SEVERITY = {
    "cron-missed": IssueSeverity.HIGH,
    "cron-failed": IssueSeverity.HIGH,
    "cron-timeout": IssueSeverity.MEDIUM,
}


def issue_fingerprint(kind: str, slug: str) -> str:
    return fingerprint(kind, slug, TEMPLATE_ID)


def monitor_fingerprints(slug: str) -> list[str]:
    return [issue_fingerprint(kind, slug) for kind in FAILURE_KINDS.values()]


def candidate(slug: str, failure: Failure) -> Candidate:
    micros = int(failure.at.timestamp() * 1_000_000)
    return Candidate(
        fingerprint=issue_fingerprint(failure.kind, slug),
        rule=failure.kind,
        category=IssueCategory.STABILITY,
        severity=_SEVERITY[failure.kind],
        source=slug,
        template_id=TEMPLATE_ID,
        template=f"cron monitor {slug} {_WHAT[failure.kind]}",
        title=f"Cron job {slug} {_WHAT[failure.kind]}",
        occurrences=failure.occurrences,
        first_seen_us=micros,
        last_seen_us=micros,
        samples=[failure.detail],
        evidence={"monitor": slug, "kind": failure.kind},
    )


def candidates(slug: str, failures: list[Failure]) -> list[Candidate]:
    """One candidate per kind (the merge takes one per fingerprint), with every failure counted."""
    merged: dict[str, Candidate] = {}
    for failure in failures:
        found = candidate(slug, failure)
        before = merged.get(failure.kind)
        if before is not None:
            found.occurrences += before.occurrences
            found.first_seen_us = min(found.first_seen_us, before.first_seen_us)
            found.last_seen_us = max(found.last_seen_us, before.last_seen_us)
            found.samples = (before.samples + found.samples)[-SAMPLES_PER_ISSUE:]
        merged[failure.kind] = found
    return list(merged.values())
