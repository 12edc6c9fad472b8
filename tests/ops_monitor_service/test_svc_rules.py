"""The issue rules as pure functions: severity, grouping by template, spikes by window."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from ops_monitor.analysis.candidates import (
    CandidateCollector,
    RuleSettings,
    find_spikes,
    fingerprint,
)
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


# Stored issues are keyed by fingerprint: if these values change, every open issue is filed again
# as new and its history is orphaned. Change them only with a migration of `ops_issues`.
QUEUE_FULL = ("1e2404e542801fda5db12e745b9c5db0f0688e4f", "f1de9ab3a0100b82")
FINGERPRINT_SCRIPT = """
import json
from ops_monitor.analysis.candidates import CandidateCollector, RuleSettings, fingerprint
from ops_monitor.analysis.templates import TemplateMiner
collector = CandidateCollector(RuleSettings(), TemplateMiner())
for i in range(3):
    collector.add(i, "api", "error", f"queue {i} is full", None, None)
print(json.dumps({
    "found": [[c.fingerprint, c.template_id] for c in collector.candidates()],
    "digest": fingerprint("error", "api", "0123abcd"),
}))
"""


def _fingerprints_in_child(hash_seed: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", FINGERPRINT_SCRIPT],
        capture_output=True,
        text=True,
        env={"PYTHONHASHSEED": hash_seed, "PATH": ""},
        check=True,
        timeout=60,
    )
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def test_the_fingerprint_of_a_problem_is_a_pinned_value() -> None:
    collector = CandidateCollector(RuleSettings(), TemplateMiner())
    for i in range(3):
        collector.add(i, "api", "error", f"queue {i} is full", None, None)

    [found] = collector.candidates()

    assert (found.fingerprint, found.template_id) == QUEUE_FULL
    assert fingerprint("error", "api", "0123abcd") == "baab3e904792ae191bcc981dd7faaebb93425793"


@pytest.mark.parametrize("hash_seed", ["0", "1", "4242"])
def test_the_fingerprint_is_the_same_in_another_process(hash_seed: str) -> None:
    child = _fingerprints_in_child(hash_seed)

    assert child["found"] == [list(QUEUE_FULL)]
    assert child["digest"] == "baab3e904792ae191bcc981dd7faaebb93425793"


def test_spikes_compare_each_window_with_the_previous_one() -> None:
    settings = RuleSettings(spike_factor=4, spike_min_count=10)
    counts = {("api", 10): 3, ("api", 11): 30, ("api", 12): 31, ("db", 11): 9}

    [spike] = find_spikes(counts, range(10, 13), settings)

    assert spike.source == "api"
    assert spike.category is IssueCategory.STABILITY
    assert spike.evidence == {"windows": [11 * HOUR_US]}
    assert spike.occurrences == 1
    assert "30 errors, 3 in the previous window" in spike.samples[0]
