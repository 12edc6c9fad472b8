"""The scheduler against the real service on a real SQLite file, on a simulated clock."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from ops_monitor.models import ScanResult
from ops_monitor.scheduling.locks import FileRunLock

from .conftest import START, LogLines, Monitor, utc

WEEK = timedelta(days=7)


def ticks(start: datetime, end: datetime) -> list[tuple[str, datetime]]:
    """The default schedules' ticks in (start, end], worked out by hand: 02:00 daily is full,
    every fourth hour on the hour is incremental."""
    expected: list[tuple[str, datetime]] = []
    moment = start.replace(minute=0, second=0, microsecond=0)
    while moment <= end:
        if moment > start:
            if moment.hour == 2:
                expected.append(("full", moment))
            elif moment.hour % 4 == 0:
                expected.append(("incremental", moment))
        moment += timedelta(hours=1)
    return expected


def scheduled(scans: list[ScanResult]) -> list[tuple[str, datetime]]:
    return [(scan.trigger, scan.started_at) for scan in scans if scan.trigger != "manual"]


def test_a_simulated_week_fires_full_daily_at_0200_and_incremental_every_four_hours(
    sqlite_monitor: Monitor,
) -> None:
    replica = sqlite_monitor.replica()
    started = time.perf_counter()

    replica.scheduler.run(until=START + WEEK)

    elapsed = time.perf_counter() - started
    scans = sqlite_monitor.scans()
    # A fresh database has never had a full scan: one catch-up runs at start, then the week.
    assert scheduled(scans) == [("full", START), *ticks(START, START + WEEK)]
    assert all(scan.scope == scan.trigger for scan in scans)
    assert all(scan.status == "completed" for scan in scans)
    assert replica.runs("full", "completed") == 8
    assert replica.runs("incremental", "completed") == 42
    print(f"simulated week: {len(scans)} scans in {elapsed:.3f} s")


def test_a_minute_matching_both_schedules_runs_only_the_full_scan(
    sqlite_monitor: Monitor, log_lines: LogLines
) -> None:
    replica = sqlite_monitor.replica({"full": "0 4 * * *", "incremental": "0 */4 * * *"})

    replica.scheduler.run(until=utc("2026-03-03T00:00:30"))

    at_four = [
        scan for scan in sqlite_monitor.scans() if scan.started_at == utc("2026-03-02T04:00")
    ]
    assert [(scan.scope, scan.trigger) for scan in at_four] == [("full", "full")]
    assert replica.skips("incremental", "superseded") == 1
    skipped = log_lines.events("tick_skipped")
    assert {
        "schedule": "incremental",
        "tick": "2026-03-02T04:00:00Z",
        "reason": "superseded",
    }.items() <= skipped[0].items()


def test_every_completed_scan_is_broadcast(sqlite_monitor: Monitor) -> None:
    replica = sqlite_monitor.replica()
    sqlite_monitor.push(20)

    replica.scheduler.run(until=START + timedelta(days=1))

    completed = [scan.id for scan in sqlite_monitor.scans() if scan.status == "completed"]
    assert [scan.id for scan in replica.broadcasts] == completed
    assert len(completed) == 1 + len(ticks(START, START + timedelta(days=1)))


def test_each_run_logs_one_json_line_with_its_figures(
    sqlite_monitor: Monitor, log_lines: LogLines
) -> None:
    replica = sqlite_monitor.replica()
    sqlite_monitor.push(30)

    replica.scheduler.run(until=utc("2026-03-02T04:00:30"))

    finished = log_lines.events("scan_finished")
    scans = sqlite_monitor.scans()
    assert [line["scan_id"] for line in finished] == [scan.id for scan in scans]
    first = finished[0]
    assert first["schedule"] == "full"
    assert first["scope"] == "full"
    assert first["catch_up"] is True
    assert first["outcome"] == "completed"
    assert first["logs_processed"] == 30 == scans[0].logs_processed
    assert first["issues_found"] == scans[0].issues_found >= 1
    assert first["issues_filed"] == scans[0].issues_filed
    assert first["issues_reopened"] == scans[0].issues_reopened
    assert first["started_at"] == "2026-03-02T00:00:30Z"
    assert first["finished_at"] is not None
    assert isinstance(first["duration_seconds"], float)
    assert [line["tick"] for line in log_lines.events("scan_started")] == [
        "2026-03-01T02:00:00Z",
        "2026-03-02T02:00:00Z",
        "2026-03-02T04:00:00Z",
    ]


def test_a_slow_scan_overlapping_the_next_tick_is_a_counted_skip(
    sqlite_monitor: Monitor, log_lines: LogLines
) -> None:
    def slow_04_00(result: ScanResult) -> None:
        if result.started_at == utc("2026-03-02T04:00"):
            sqlite_monitor.clock.advance(timedelta(hours=5))  # runs past the 08:00 tick

    sqlite_monitor.on_broadcast = slow_04_00
    replica = sqlite_monitor.replica()

    replica.scheduler.run(until=utc("2026-03-02T12:00:30"))

    assert [at.hour for _, at in scheduled(sqlite_monitor.scans())] == [0, 2, 4, 12]
    assert replica.skips("incremental", "overlap") == 1
    (skip,) = log_lines.events("tick_skipped")
    assert (skip["tick"], skip["reason"], skip["outcome"]) == (
        "2026-03-02T08:00:00Z",
        "overlap",
        "skipped",
    )


def test_a_tick_another_replica_is_running_is_skipped_as_claimed(sqlite_monitor: Monitor) -> None:
    replica = sqlite_monitor.replica({"incremental": "0 */4 * * *"})
    replica.scheduler.begin()
    sqlite_monitor.clock.set(utc("2026-03-02T04:00:01"))
    lock_path = sqlite_monitor.url.removeprefix("sqlite:///") + ".scheduler.lock"

    with FileRunLock(Path(lock_path)).hold() as held:
        assert held
        replica.scheduler.handle_due(sqlite_monitor.clock())

    assert sqlite_monitor.scans() == []
    assert replica.skips("incremental", "claimed") == 1


def test_restart_after_thirty_hours_down_catches_up_exactly_once(
    sqlite_monitor: Monitor, log_lines: LogLines
) -> None:
    first = sqlite_monitor.replica()
    first.scheduler.run(until=utc("2026-03-02T12:00:30"))
    first.store.close()
    restart = utc("2026-03-03T18:00:30")  # down for 30 hours since the 12:00 scan
    sqlite_monitor.clock.set(restart)

    second = sqlite_monitor.replica()
    second.scheduler.run(until=utc("2026-03-03T22:00:00"))
    third = sqlite_monitor.replica()  # restarting again does not catch up again
    third.scheduler.run(until=utc("2026-03-04T04:00:30"))

    after_restart = [entry for entry in scheduled(sqlite_monitor.scans()) if entry[1] >= restart]
    assert after_restart == [
        ("full", restart),
        ("incremental", utc("2026-03-03T20:00")),
        ("incremental", utc("2026-03-04T00:00")),
        ("full", utc("2026-03-04T02:00")),
        ("incremental", utc("2026-03-04T04:00")),
    ]
    catch_ups = [line for line in log_lines.events("scan_finished") if line["catch_up"]]
    assert [line["started_at"] for line in catch_ups] == [
        "2026-03-02T00:00:30Z",  # the fresh database's first start
        "2026-03-03T18:00:30Z",
    ]


def test_no_catch_up_when_the_last_full_scan_is_recent(sqlite_monitor: Monitor) -> None:
    replica = sqlite_monitor.replica()
    replica.service.run_scan("full")  # a manual full scan an hour before the restart counts
    sqlite_monitor.clock.advance(timedelta(hours=1))

    replica.scheduler.run(until=utc("2026-03-02T01:59"))

    assert [scan.trigger for scan in sqlite_monitor.scans()] == ["manual"]


def test_catch_up_respects_the_starting_deadline(sqlite_monitor: Monitor) -> None:
    replica = sqlite_monitor.replica(settings=_Deadline(hours=1))  # the 02:00 miss is 22 h old

    replica.scheduler.run(until=utc("2026-03-02T01:00"))

    assert sqlite_monitor.scans() == []


class _Deadline:
    def __init__(self, hours: float) -> None:
        self.starting_deadline_hours = hours


@pytest.fixture
def new_york() -> Iterator[None]:
    """The host's local time is New York's (which changes to DST on 2026-03-08)."""
    import os

    previous = os.environ.get("TZ")
    os.environ["TZ"] = "America/New_York"
    time.tzset()
    assert time.localtime(utc("2026-03-09T12:00").timestamp()).tm_isdst == 1
    try:
        yield
    finally:
        if previous is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = previous
        time.tzset()


@pytest.mark.usefixtures("new_york")
@pytest.mark.parametrize(
    "start", [utc("2026-03-06T23:30"), utc("2026-10-30T23:30")], ids=["spring", "fall"]
)
def test_host_time_zone_and_dst_change_alter_nothing(
    sqlite_monitor: Monitor, start: datetime
) -> None:
    sqlite_monitor.clock.set(start)
    replica = sqlite_monitor.replica()
    replica.service.run_scan("full")  # so that no catch-up muddies the comparison

    replica.scheduler.run(until=start + timedelta(days=4))

    assert scheduled(sqlite_monitor.scans()) == ticks(start, start + timedelta(days=4))
    assert all(at.utcoffset() == timedelta(0) for _, at in scheduled(sqlite_monitor.scans()))
