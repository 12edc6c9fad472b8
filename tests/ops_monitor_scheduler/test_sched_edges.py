"""The loop's rarer paths: busy ticks, a host that slept through ticks, a database down at start."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import text

from ops_monitor.models import ScanFilters
from ops_monitor.store import scans as scan_rows

from .conftest import START, LogLines, Monitor, utc

INCREMENTAL_ONLY = {"incremental": "0 */4 * * *"}


def test_a_tick_that_finds_a_scan_running_is_skipped_as_busy(
    sqlite_monitor: Monitor, log_lines: LogLines
) -> None:
    replica = sqlite_monitor.replica(INCREMENTAL_ONLY)
    replica.scheduler.begin()
    sqlite_monitor.clock.set(utc("2026-03-02T04:00:01"))

    # Another process is mid-scan: it holds the scan lock and has written its running row (a
    # running row without the lock is a dead scan's, which the service marks failed instead).
    with replica.store.scan_lock():
        with replica.store.write() as connection:
            running = scan_rows.insert_running(
                connection, "full", "manual", sqlite_monitor.clock(), ScanFilters()
            )
        replica.scheduler.handle_due(sqlite_monitor.clock())

    assert replica.skips("incremental", "busy") == 1
    (skip,) = log_lines.events("tick_skipped")
    assert (skip["reason"], skip["running_scan_id"]) == ("busy", running)


def test_a_scan_lock_taken_between_check_and_start_is_a_busy_skip(sqlite_monitor: Monitor) -> None:
    replica = sqlite_monitor.replica(INCREMENTAL_ONLY)
    replica.scheduler.begin()
    sqlite_monitor.clock.set(utc("2026-03-02T04:00:01"))

    with replica.store.scan_lock():  # a manual scan has the lock but has not written its row
        replica.scheduler.handle_due(sqlite_monitor.clock())

    assert sqlite_monitor.scans() == []
    assert replica.skips("incremental", "busy") == 1
    assert replica.runs("incremental", "completed") == 0


def test_waking_late_runs_only_the_latest_tick_and_counts_the_rest_missed(
    sqlite_monitor: Monitor,
) -> None:
    replica = sqlite_monitor.replica()
    replica.scheduler.begin()  # catch-up full at 00:00:30
    sqlite_monitor.clock.set(utc("2026-03-02T09:00:10"))  # the host slept from 00:00:30

    replica.scheduler.handle_due(sqlite_monitor.clock())

    assert [(s.trigger, s.started_at) for s in sqlite_monitor.scans()][1:] == [
        ("incremental", utc("2026-03-02T09:00:10"))
    ]
    assert replica.skips("full", "missed") == 1  # 02:00, yet the last full scan is recent
    assert replica.skips("incremental", "missed") == 1  # 04:00


def test_waking_more_than_a_period_late_catches_up_with_one_full_scan(
    sqlite_monitor: Monitor,
) -> None:
    replica = sqlite_monitor.replica()
    replica.scheduler.begin()
    sqlite_monitor.clock.set(utc("2026-03-03T04:00:10"))  # slept 28 hours

    replica.scheduler.handle_due(sqlite_monitor.clock())

    scans = sqlite_monitor.scans()
    assert [(s.scope, s.started_at) for s in scans] == [
        ("full", START),
        ("full", utc("2026-03-03T04:00:10")),
    ]
    assert replica.skips("incremental", "superseded") == 1
    assert replica.skips("full", "missed") == 2


def test_ticks_older_than_the_starting_deadline_are_not_started(sqlite_monitor: Monitor) -> None:
    replica = sqlite_monitor.replica(INCREMENTAL_ONLY, settings=_Hours(1))
    replica.scheduler.begin()
    sqlite_monitor.clock.set(utc("2026-03-02T10:30"))

    replica.scheduler.handle_due(sqlite_monitor.clock())

    assert sqlite_monitor.scans() == []
    assert replica.skips("incremental", "missed") == 2


class _Hours:
    def __init__(self, hours: float) -> None:
        self.starting_deadline_hours = hours


def test_a_database_down_at_start_and_at_a_tick_never_ends_the_loop(
    sqlite_monitor: Monitor, log_lines: LogLines
) -> None:
    replica = sqlite_monitor.replica()
    with replica.store.write() as connection:
        connection.execute(text("ALTER TABLE ops_scans RENAME TO ops_scans_away"))
    woke: list[datetime] = []

    def oversleep(seconds: float) -> None:  # the first sleep lasts 30 hours longer than asked
        sqlite_monitor.clock.sleep(seconds + (0 if woke else 30 * 3600))
        woke.append(sqlite_monitor.clock())
        if len(woke) == 2:
            with replica.store.write() as connection:
                connection.execute(text("ALTER TABLE ops_scans_away RENAME TO ops_scans"))

    replica.scheduler.sleep = oversleep

    replica.scheduler.run(until=utc("2026-03-03T12:00:30"))

    failures = log_lines.events("tick_failed")
    assert len(failures) == 2  # the catch-up check at start, the late wake-up's catch-up check
    assert all("ops_scans" in line["error"] for line in failures)
    assert [scan.started_at for scan in sqlite_monitor.scans()] == [utc("2026-03-03T12:00")]


def test_a_loop_with_nothing_scheduled_waits_until_stopped(sqlite_monitor: Monitor) -> None:
    replica = sqlite_monitor.replica({})
    replica.scheduler.stop()

    replica.scheduler.run()

    assert replica.scheduler.stopping
    assert sqlite_monitor.scans() == []
    assert sqlite_monitor.clock() == START
