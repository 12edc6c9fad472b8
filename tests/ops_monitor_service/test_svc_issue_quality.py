"""Issues an on-call engineer can trust: no spike for a source that has no history, the runtime's
limit messages filed as performance, spike detection that costs what the data costs, and a failed
scan's record that names the failure without leaking the SQL or the log content it carried."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy import text

from ops_monitor.analysis.candidates import (
    CandidateCollector,
    RuleSettings,
    find_spikes,
    limit_in_message,
)
from ops_monitor.analysis.templates import TemplateMiner
from ops_monitor.models import IssueCategory
from ops_monitor.service import OpsMonitorService, short_error
from ops_monitor.store import Store

from .conftest import NOW, records

HOUR = timedelta(hours=1)
WINDOW_START = NOW.replace(minute=0) - 6 * HOUR


class WindowsThatMustNotBeWalked:
    """Window indexes a scan looked at, spanning centuries: membership only."""

    def __init__(self, first: int, last: int) -> None:
        self.first, self.last = first, last

    def __contains__(self, window: object) -> bool:
        return isinstance(window, int) and self.first <= window <= self.last

    def __iter__(self) -> Iterator[int]:
        raise AssertionError("spike detection walked every window of the span")


def test_spike_detection_visits_only_the_windows_that_hold_errors() -> None:
    settings = RuleSettings(spike_factor=4, spike_min_count=10)
    counts = {("api", 10): 3, ("api", 11): 30, ("api", 70_000_000): 50}

    [spike] = find_spikes(counts, WindowsThatMustNotBeWalked(10, 70_000_000), settings)

    assert spike.evidence == {"windows": [11 * 3_600_000_000]}


def test_a_source_with_no_earlier_records_has_no_spike(service: OpsMonitorService) -> None:
    service.ingest(records("new", 1185, at=WINDOW_START, step=timedelta(seconds=3)))

    service.run_scan("full")

    assert [i.title for i in service.open_issues() if i.title.startswith("Error spike")] == []


def test_errors_after_a_quiet_window_with_records_are_a_spike(service: OpsMonitorService) -> None:
    service.ingest(records("api", 50, level="info", message="ok {i}", at=WINDOW_START))
    service.ingest(records("api", 40, at=WINDOW_START + HOUR, step=timedelta(seconds=10)))

    service.run_scan("full")

    [spike] = [i for i in service.open_issues() if i.title.startswith("Error spike")]
    assert "40 errors, 0 in the previous window" in spike.samples[0]


def test_records_of_other_sources_are_no_history(service: OpsMonitorService) -> None:
    service.ingest(records("other", 50, level="info", message="ok {i}", at=WINDOW_START))
    service.ingest(records("api", 40, at=WINDOW_START + HOUR, step=timedelta(seconds=10)))

    service.run_scan("full")

    assert [i.title for i in service.open_issues() if i.title.startswith("Error spike")] == []


@pytest.mark.parametrize(
    ("message", "outcome"),
    [
        ("Worker exceeded CPU time limit.", "exceededCpu"),
        ("Exceeded CPU Limit", "exceededCpu"),
        ("Error 1102: Worker exceeded resource limits", "exceededCpu"),
        ("Script startup exceeded CPU time limit.", "exceededCpu"),
        ("Worker exceeded memory limit.", "exceededMemory"),
        ("Memory limit would be exceeded before EOF.", "exceededMemory"),
        ("request exceeded wall time limit", "exceededWallTime"),
        ("payment exceeded the card limit", None),
        ("rate limit exceeded for key 7", None),
    ],
)
def test_runtime_limit_messages_are_recognised(message: str, outcome: str | None) -> None:
    assert limit_in_message(message) == outcome


def test_a_limit_message_files_the_same_performance_issue_as_the_outcome() -> None:
    collector = CandidateCollector(RuleSettings(), TemplateMiner())
    collector.add(1, "api", "error", "Worker exceeded CPU time limit.", None, None)
    collector.add(2, "api", "warning", "GET / -> exceededCpu", "exceededCpu", None)
    collector.add(3, "api", "error", "TypeError: x is undefined", None, None)

    by_rule = {c.rule: c for c in collector.candidates()}

    assert set(by_rule) == {"limit-exceeded", "error"}
    limit = by_rule["limit-exceeded"]
    assert (limit.category, limit.occurrences) == (IssueCategory.PERFORMANCE, 2)


def test_a_limit_message_is_a_performance_issue_in_a_scan(service: OpsMonitorService) -> None:
    service.ingest(records("api", 3, message="Worker exceeded CPU time limit."))

    service.run_scan("full")

    [issue] = service.open_issues()
    assert issue.category is IssueCategory.PERFORMANCE
    assert issue.title.startswith("Runtime limit exceeded in api")


def test_a_failed_scan_records_a_short_error_without_sql_or_log_content(store: Store) -> None:
    calls = 0

    def clock_whose_store_call_fails() -> datetime:
        """Fails the scan, after its row exists, with a real database error that carries SQL
        and a parameter holding log content, as a failing insert of log text would."""
        nonlocal calls
        calls += 1
        if calls == 3:
            with store.write() as connection:
                connection.execute(
                    text("INSERT INTO no_such_table (message) VALUES (:message)"),
                    {"message": "card 4111-1111 declined for alice@example.com"},
                )
        return NOW

    service = OpsMonitorService(store, clock=clock_whose_store_call_fails)
    with pytest.raises(Exception, match="no_such_table"):
        service.run_scan("full")

    failed = service.last_scan()
    assert failed is not None
    assert failed.status == "failed"
    assert failed.error is not None
    assert failed.error.startswith(("ProgrammingError: ", "OperationalError: "))
    assert "no_such_table" in failed.error
    assert "alice" not in failed.error
    assert "SQL" not in failed.error
    assert "\n" not in failed.error


def test_short_error_keeps_the_first_line_and_bounds_it() -> None:
    assert short_error(ValueError("first\nsecond")) == "ValueError: first"
    assert short_error(RuntimeError()) == "RuntimeError"
    assert len(short_error(ValueError("x" * 5000))) < 400
