"""Cron health from the scan history: next run, last run and outcome, and the dead man's switch."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from ops_monitor.scheduling.schedules import parse_schedules
from ops_monitor.scheduling.status import CronView, cron_status

from .conftest import Monitor, utc


def test_before_any_run_or_start_no_schedule_is_late_and_each_shows_its_next_run(
    sqlite_monitor: Monitor,
) -> None:
    replica = sqlite_monitor.replica()

    status = cron_status(parse_schedules(None), replica.service, utc("2026-03-02T01:00"))

    assert status.late is False
    assert status.running_scan_id is None
    assert [
        (row.name, row.next_run, row.last_run, row.late, row.late_at, row.state)
        for row in status.schedules
    ] == [
        ("full", utc("2026-03-02T02:00"), None, False, None, "never ran"),
        ("incremental", utc("2026-03-02T04:00"), None, False, None, "never ran"),
    ]


def test_after_runs_shows_last_outcome_and_turns_late_after_period_plus_grace(
    sqlite_monitor: Monitor,
) -> None:
    replica = sqlite_monitor.replica()
    replica.scheduler.run(until=utc("2026-03-02T04:00:30"))  # catch-up, 02:00 full, 04:00 incr.
    scans = sqlite_monitor.scans()
    view = CronView(parse_schedules(None), grace=timedelta(minutes=30), clock=sqlite_monitor.clock)

    on_time = view.status(replica.service)
    sqlite_monitor.clock.set(utc("2026-03-02T08:30:01"))  # 04:00 + 4 h + 30 min, and a second
    late = view.status(replica.service)

    full, incremental = on_time.schedules
    assert (full.last_run, full.last_outcome, full.last_scan_id) == (
        utc("2026-03-02T02:00"),
        "completed",
        scans[1].id,
    )
    assert (incremental.last_run, incremental.last_scan_id) == (
        utc("2026-03-02T04:00"),
        scans[2].id,
    )
    assert incremental.period_seconds == 4 * 3600
    assert incremental.late_at == utc("2026-03-02T08:30")
    assert (on_time.late, full.late, incremental.late) == (False, False, False)
    assert on_time.grace_seconds == 1800
    assert late.late is True
    assert [row.late for row in late.schedules] == [False, True]


def test_a_failed_last_run_shows_failed_but_late_only_counts_successes(
    sqlite_monitor: Monitor,
) -> None:
    replica = sqlite_monitor.replica({"incremental": "0 */4 * * *"})
    replica.service.run_scan("incremental", trigger="incremental")
    sqlite_monitor.clock.advance(timedelta(hours=4))
    with replica.store.write() as connection:
        connection.execute(
            text(
                "CREATE TRIGGER refuse BEFORE UPDATE OF status ON ops_scans"
                " WHEN NEW.status = 'completed' BEGIN SELECT RAISE(ABORT, 'no'); END"
            )
        )
    with pytest.raises(IntegrityError):  # the service records the failure, then re-raises
        replica.service.run_scan("incremental", trigger="incremental")

    (row,) = cron_status(
        replica.scheduler.schedules, replica.service, sqlite_monitor.clock()
    ).schedules

    assert row.last_outcome == "failed"
    assert row.last_success == utc("2026-03-02T00:00:30")
    assert row.late is False  # 4 h since the success: within period + grace
