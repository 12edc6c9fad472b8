"""The service against real databases: scans file issues idempotently, incremental scans read
only what is new, resolved problems that recur regress, and one scan runs at a time."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest

from ops_monitor.ingest.malformed import MalformedLines
from ops_monitor.models import (
    IssueCategory,
    IssueNotFoundError,
    IssueSeverity,
    IssueStatus,
    ScanFilters,
    ScanInProgressError,
    ScanResult,
)
from ops_monitor.service import OpsMonitorService
from ops_monitor.store import Store

from .conftest import NOW, Clock, records


def test_full_scan_ingests_analyses_and_files_issues(service: OpsMonitorService) -> None:
    service.ingest(records("api", 15) + records("api", 100, level="info", message="ok {i}"))

    result = service.run_scan("full")

    assert result.status == "completed"
    assert result.logs_processed == 115
    assert (result.issues_found, result.issues_filed) == (1, 1)
    [issue] = service.open_issues()
    assert issue.category is IssueCategory.STABILITY
    assert issue.status is IssueStatus.NEW
    assert issue.occurrences == 15
    assert issue.template == "payment <*> failed for order <*>"
    assert issue.first_seen == NOW - timedelta(hours=1)
    assert issue.last_seen == NOW - timedelta(hours=1) + timedelta(seconds=14)
    assert len(issue.samples) == 5
    assert service.recent_scans()[0] == result


def test_filing_is_idempotent_one_issue_per_fingerprint(service: OpsMonitorService) -> None:
    service.ingest(records("api", 10))
    service.run_scan("full")

    again = service.run_scan("full")

    assert (again.issues_found, again.issues_filed) == (1, 0)
    [issue] = service.open_issues()
    assert issue.occurrences == 10


def test_incremental_scan_reads_only_new_records(service: OpsMonitorService) -> None:
    service.ingest(records("api", 10, level="info", message="ok {i}") + records("api", 10))
    service.run_scan("full")
    service.ingest(records("api", 5, at=NOW - timedelta(minutes=5)))

    result = service.run_scan("incremental")

    assert result.logs_processed == 5
    assert result.issues_filed == 0
    [issue] = service.open_issues()
    assert issue.occurrences == 15
    assert issue.status is IssueStatus.ONGOING


def test_full_scans_converge_with_incremental_ones(store: Store, clock: Clock) -> None:
    service = OpsMonitorService(store, clock=clock)
    batches = [
        records("api", 12),
        records("worker", 7, message="TypeError: x is undefined at line {i}"),
        records("api", 4, level="info", message="GET /items took {i} ms", duration_ms=2500),
    ]
    for batch in batches:
        service.ingest(batch)
        service.run_scan("incremental")
    incremental = {(i.fingerprint, i.occurrences) for i in service.open_issues()}

    service.run_scan("full")

    assert {(i.fingerprint, i.occurrences) for i in service.open_issues()} == incremental
    assert len(incremental) == 3


def test_resolved_issue_that_recurs_is_reopened_as_regressed(
    service: OpsMonitorService, clock: Clock
) -> None:
    service.ingest(records("api", 3))
    service.run_scan("full")
    [issue] = service.open_issues()
    resolved = service.resolve_issue(issue.id, "fixed in deploy 42")
    assert (resolved.status, resolved.resolution) == (IssueStatus.RESOLVED, "fixed in deploy 42")
    assert service.open_issues() == []

    service.run_scan("full")  # re-reads the old records: nothing recurred
    assert service.open_issues() == []

    clock.advance(hours=1)
    service.ingest(records("api", 2, at=clock.now - timedelta(minutes=1)))
    result = service.run_scan("incremental")

    assert result.issues_reopened == 1
    [again] = service.open_issues()
    assert again.id == issue.id
    assert again.status is IssueStatus.REGRESSED
    assert again.resolution is None


def test_resolving_a_missing_issue_raises(service: OpsMonitorService) -> None:
    with pytest.raises(IssueNotFoundError):
        service.resolve_issue(999, "nope")
    with pytest.raises(IssueNotFoundError):
        service.get_issue(999)


def test_performance_rules_file_slow_requests_and_limit_outcomes(
    service: OpsMonitorService,
) -> None:
    service.ingest(
        records("api", 3, level="info", message="GET /search took {i} ms", duration_ms=1500)
        + records("api", 2, level="info", message="GET /export took {i} ms", duration_ms=9000)
        + records("cron", 2, level="warning", message="invocation", outcome="exceededCpu")
    )

    service.run_scan("full")

    found = service.open_issues(category="performance")
    by_title = {issue.title.split(":")[0]: issue for issue in found}
    assert by_title["Runtime limit exceeded in cron"].severity is IssueSeverity.HIGH
    assert by_title["Slow requests in api"].occurrences == 5
    assert by_title["Slow requests in api"].severity is IssueSeverity.HIGH  # 9000 > 5 x 1000


def test_error_spike_against_the_previous_window(service: OpsMonitorService) -> None:
    hour = NOW.replace(minute=0) - timedelta(hours=3)
    service.ingest(records("api", 2, at=hour, message="timeout {i}"))
    service.ingest(
        records(
            "api",
            40,
            at=hour + timedelta(hours=1),
            step=timedelta(seconds=10),
            message="timeout {i}",
        )
    )

    service.run_scan("full")

    [spike] = service.open_issues(severity="high", source="api")
    assert spike.title.startswith("Error spike in api")
    assert spike.occurrences == 1
    assert "40 errors, 2 in the previous window" in spike.samples[0]


def test_issue_listing_filters_and_pages(service: OpsMonitorService) -> None:
    service.ingest(
        records("a", 2, message="alpha {i}")
        + records("b", 2, message="beta {i}", level="critical")
        + records("c", 2, message="gamma {i}")
    )
    service.run_scan("full")

    assert service.open_issues()[0].source == "b"  # critical first
    assert len(service.open_issues(limit=2)) == 2
    assert len(service.open_issues(limit=2, offset=2)) == 1
    assert [i.source for i in service.open_issues(source="c")] == ["c"]
    assert service.open_issues(status="resolved") == []


def test_filtered_scan_reads_only_matching_records_and_keeps_the_cursor(
    service: OpsMonitorService,
) -> None:
    service.ingest(records("a", 4) + records("b", 6))

    filtered = service.run_scan("incremental", ScanFilters(sources=["b"]))
    rest = service.run_scan("incremental")

    assert filtered.logs_processed == 6
    assert rest.logs_processed == 10  # the filtered scan left the cursor where it was


def test_retention_drops_records_older_than_the_window(store: Store, clock: Clock) -> None:
    service = OpsMonitorService(store, clock=clock, retention_days=7)
    service.ingest(records("api", 5, at=NOW - timedelta(days=10)))
    service.ingest(records("api", 3, at=NOW - timedelta(days=1)))

    result = service.run_scan("full")

    assert result.logs_processed == 3
    assert service.purge_expired() == 0  # the full scan already dropped the old ones
    clock.advance(days=7)
    assert service.purge_expired() == 3


def test_malformed_lines_are_counted_and_sampled_into_the_next_scan(
    service: OpsMonitorService,
) -> None:
    malformed = MalformedLines(keep=2)
    for line_no in range(1, 4):
        malformed.add(line_no, "not JSON", "{oops")
    service.ingest(records("api", 1), origin="file:jsonl", malformed=malformed)

    result = service.run_scan("incremental")
    later = service.run_scan("incremental")

    assert result.malformed_lines == 3
    assert result.malformed_samples == ["line 1: not JSON: {oops", "line 2: not JSON: {oops"]
    assert later.malformed_lines == 0


def test_broadcast_receives_each_completed_scan_and_its_failure_is_harmless(
    store: Store, clock: Clock
) -> None:
    received: list[ScanResult] = []

    def broadcast(result: ScanResult) -> None:
        received.append(result)
        raise ConnectionError("listener went away")

    service = OpsMonitorService(store, clock=clock, on_scan_completed=broadcast)
    result = service.run_scan("full")

    assert received == [result]
    assert service.last_scan(status="completed") == result


def test_a_failing_scan_is_recorded_as_failed_and_the_next_one_succeeds(
    store: Store,
) -> None:
    calls = 0

    def clock_that_breaks_once():  # type: ignore[no-untyped-def]
        nonlocal calls
        calls += 1
        if calls == 3:  # the retention cutoff, read after the scan's row exists
            raise OSError("clock unavailable")
        return NOW

    service = OpsMonitorService(store, clock=clock_that_breaks_once)
    with pytest.raises(OSError, match="clock unavailable"):
        service.run_scan("full", trigger="nightly")

    failed = service.last_scan()
    assert failed is not None
    assert (failed.status, failed.trigger) == ("failed", "nightly")
    assert failed.error == "OSError: clock unavailable"
    assert service.running_scan_id() is None
    assert service.run_scan("full").status == "completed"


def test_unknown_scope_is_rejected(service: OpsMonitorService) -> None:
    with pytest.raises(ValueError, match="scope must be one of full, incremental"):
        service.run_scan("weekly")


class PausingClock:
    """A clock that stops, on its third reading (inside the scan, after its row is committed),
    until the test lets it go: a scan frozen half-way."""

    def __init__(self) -> None:
        self.calls = 0
        self.paused = threading.Event()
        self.resume = threading.Event()

    def __call__(self) -> datetime:
        self.calls += 1
        if self.calls == 3:
            self.paused.set()
            self.resume.wait(20)
        return NOW


def test_one_scan_at_a_time_across_store_instances(store: Store, db_url: str) -> None:
    other = Store(db_url)
    second = OpsMonitorService(other)
    clock = PausingClock()
    first = OpsMonitorService(store, clock=clock)
    holder = threading.Thread(target=first.run_scan, args=("full",))
    holder.start()
    try:
        assert clock.paused.wait(20)
        running = second.running_scan_id()
        with pytest.raises(ScanInProgressError) as busy:
            second.run_scan("incremental")
    finally:
        clock.resume.set()
        holder.join(20)
        other.close()
    assert running is not None
    assert busy.value.running_scan_id == running
    assert second.run_scan("incremental").status == "completed"


def test_time_and_level_filters_and_last_scan_lookups(service: OpsMonitorService) -> None:
    service.ingest(
        records("api", 4, at=NOW - timedelta(hours=5))
        + records("api", 3, level="info", message="ok {i}", at=NOW - timedelta(hours=1))
    )
    window = ScanFilters(since=NOW - timedelta(hours=2), until=NOW, levels=["INFO"])

    windowed = service.run_scan("full", window, trigger="hand")
    nightly = service.run_scan("full", trigger="nightly")

    assert windowed.logs_processed == 3
    assert nightly.logs_processed == 7
    assert service.last_scan(trigger="hand") == windowed
    assert service.last_scan(scope="full", status="completed") == nightly
    assert service.last_scan(scope="incremental") is None


def test_a_busy_scan_from_the_command_line_exits_4(
    store: Store, db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from ops_monitor.cli import main

    monkeypatch.setenv("OPS_MONITOR_DB", db_url)
    monkeypatch.delenv("OPS_MONITOR_URL", raising=False)
    with store.scan_lock():
        assert main(["scan"]) == 4
    assert "is already running" in capsys.readouterr().err
