"""The issue rules as pure functions: severity, grouping by template, spikes by window."""

from __future__ import annotations

from ops_monitor.analysis.candidates import CandidateCollector, RuleSettings, find_spikes
from ops_monitor.analysis.templates import TemplateMiner
from ops_monitor.models import IssueCategory, IssueSeverity

HOUR_US = 3_600_000_000


def test_records_group_by_rule_source_and_template_with_the_worst_severity() -> None:
    collector = CandidateCollector(RuleSettings(), TemplateMiner())
    collector.add(1, "api", "error", "db timeout after 30 ms", None, None)
    collector.add(5, "api", "critical", "db timeout after 99 ms", None, None)
    collector.add(3, "api", "info", "all good", None, None)  # no rule applies
    collector.add(4, "api", "error", "Uncaught TypeError", "exception", None)

    found = {c.template: c for c in collector.candidates()}

    timeout = found["db timeout after <*> ms"]
    assert (timeout.occurrences, timeout.first_seen_us, timeout.last_seen_us) == (2, 1, 5)
    assert timeout.severity is IssueSeverity.CRITICAL
    assert timeout.evidence == {"levels": {"error": 1, "critical": 1}}
    assert found["Uncaught TypeError"].severity is IssueSeverity.HIGH
    assert len(found) == 2


def test_the_same_problem_always_gets_the_same_fingerprint() -> None:
    def fingerprints() -> set[str]:
        collector = CandidateCollector(RuleSettings(), TemplateMiner())
        for i in range(3):
            collector.add(i, "api", "error", f"queue {i} is full", None, None)
        return {c.fingerprint for c in collector.candidates()}

    assert fingerprints() == fingerprints()


def test_spikes_compare_each_window_with_the_previous_one() -> None:
    settings = RuleSettings(spike_factor=4, spike_min_count=10)
    counts = {("api", 10): 3, ("api", 11): 30, ("api", 12): 31, ("db", 11): 9}

    [spike] = find_spikes(counts, range(10, 13), settings)

    assert spike.source == "api"
    assert spike.category is IssueCategory.STABILITY
    assert spike.evidence == {"windows": [11 * HOUR_US]}
    assert spike.occurrences == 1
    assert "30 errors, 3 in the previous window" in spike.samples[0]
