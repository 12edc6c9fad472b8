"""Cron status on a fresh deployment, after a manual full scan, and around superseded ticks: a
schedule is late only when a tick was due since the scheduler started (or since its last success)
and no success followed within the grace; catch-up and status share one "last success"."""

from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from ops_monitor.cli import main
from ops_monitor.commands.serve import build_app
from ops_monitor.config import Settings
from ops_monitor.models import ScanFilters
from ops_monitor.scheduling.schedules import parse_schedules
from ops_monitor.scheduling.status import cron_status

from .conftest import LogLines, Monitor, served, utc

INCREMENTAL_ONLY = {"incremental": "0 */4 * * *"}
HOUR = timedelta(hours=1)


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [name for name in os.environ if name.startswith("OPS_MONITOR_")]:
        monkeypatch.delenv(name)


def test_cron_status_on_a_fresh_database_is_not_late_and_exits_0(
    tmp_path: Path, clean_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    db = f"sqlite:///{tmp_path / 'fresh.db'}"

    code = main(["cron", "status", "--db", db, "--json"])

    data = json.loads(capsys.readouterr().out)
    assert code == 0
    assert data["late"] is False
    for row in data["schedules"]:
        assert (row["late"], row["late_at"], row["state"]) == (False, None, "never ran")
        assert {"next_run", "last_run", "last_outcome", "last_scan_id", "last_success"} <= set(row)
    assert main(["cron", "status", "--db", db]) == 0
    out = capsys.readouterr().out
    assert "never ran" in out
    assert "LATE" not in out
    assert "a completed full scan (scheduled, manual or API) counts" in out


def test_a_scheduler_started_at_0247_is_not_late_until_a_tick_passes_unanswered(
    sqlite_monitor: Monitor,
) -> None:
    sqlite_monitor.clock.set(utc("2026-03-02T02:47"))
    replica = sqlite_monitor.replica(INCREMENTAL_ONLY)
    replica.scheduler.begin()  # records its start; no full schedule, so no catch-up scan
    schedules = replica.scheduler.schedules

    before_tick = cron_status(schedules, replica.service, utc("2026-03-02T03:59"))
    within_grace = cron_status(schedules, replica.service, utc("2026-03-02T05:00"))
    unanswered = cron_status(schedules, replica.service, utc("2026-03-02T05:00:01"))

    assert sqlite_monitor.scans() == []
    (row,) = before_tick.schedules
    assert (row.late, row.state, row.scheduler_started) == (
        False,
        "never ran",
        utc("2026-03-02T02:47"),
    )
    assert row.late_at == utc("2026-03-02T05:00")  # the 04:00 tick plus the hour of grace
    assert within_grace.late is False
    assert unanswered.late is True
    assert unanswered.schedules[0].state == "late"


def test_after_a_start_with_catch_up_incremental_is_on_time_until_its_next_tick(
    sqlite_monitor: Monitor,
) -> None:
    sqlite_monitor.clock.set(utc("2026-03-02T02:47"))
    replica = sqlite_monitor.replica()
    replica.scheduler.begin()  # fresh: one catch-up full scan, which covers incremental too

    status = cron_status(replica.scheduler.schedules, replica.service, utc("2026-03-02T04:30"))

    assert [scan.trigger for scan in sqlite_monitor.scans()] == ["full"]
    assert status.late is False
    incremental = status.schedules[1]
    assert (incremental.last_run, incremental.last_success) == (None, utc("2026-03-02T02:47"))
    assert (incremental.last_success_trigger, incremental.state) == ("full", "on time")
    assert incremental.late_at == utc("2026-03-02T05:00")


def test_a_manual_full_scan_counts_for_catch_up_and_status_alike(sqlite_monitor: Monitor) -> None:
    replica = sqlite_monitor.replica()
    manual = replica.service.run_scan("full", trigger="manual")  # 00:00:30
    sqlite_monitor.clock.set(utc("2026-03-02T01:00"))

    replica.scheduler.begin()  # the manual scan is recent: no catch-up
    status = cron_status(replica.scheduler.schedules, replica.service, sqlite_monitor.clock())

    assert [scan.id for scan in sqlite_monitor.scans()] == [manual.id]
    full = status.schedules[0]
    assert (full.late, full.last_run, full.last_success_scan_id) == (False, None, manual.id)
    assert (full.last_success_trigger, full.state) == ("manual", "on time")
    # the 02:00 tick comes due; nothing answers it within the grace: late, as a dead man's switch
    missed = cron_status(replica.scheduler.schedules, replica.service, utc("2026-03-02T03:00:01"))
    assert [row.late for row in missed.schedules] == [True, False]


def test_a_filtered_full_scan_counts_for_nothing(sqlite_monitor: Monitor) -> None:
    from ops_monitor.scheduling.history import ScheduleHistory

    replica = sqlite_monitor.replica()
    replica.service.run_scan("full", ScanFilters(sources=["checkout"]), trigger="manual")

    history = ScheduleHistory(replica.store)
    replica.scheduler.begin()

    full = replica.scheduler.schedules[0]
    assert [scan.trigger for scan in sqlite_monitor.scans()] == ["manual", "full"]  # caught up
    success = history.last_success(full)
    assert success is not None
    assert success.trigger == "full"


def test_next_run_skips_a_tick_the_full_scan_supersedes(sqlite_monitor: Monitor) -> None:
    replica = sqlite_monitor.replica({"full": "0 0 * * *", "incremental": "0 */4 * * *"})

    status = cron_status(replica.scheduler.schedules, replica.service, utc("2026-03-02T23:00"))

    full, incremental = status.schedules
    assert (full.next_run, full.next_tick_superseded_by) == (utc("2026-03-03T00:00"), None)
    assert incremental.next_tick == utc("2026-03-03T00:00")
    assert incremental.next_tick_superseded_by == "full"
    assert incremental.next_run == utc("2026-03-03T04:00")


def test_a_schedule_always_superseded_keeps_its_next_tick_as_next_run(
    sqlite_monitor: Monitor,
) -> None:
    replica = sqlite_monitor.replica({"full": "0 * * * *", "incremental": "0 */4 * * *"})

    status = cron_status(replica.scheduler.schedules, replica.service, utc("2026-03-02T01:30"))

    incremental = status.schedules[1]
    assert incremental.next_run == incremental.next_tick == utc("2026-03-02T04:00")
    assert incremental.next_tick_superseded_by == "full"


def test_a_start_the_database_could_not_record_is_recorded_at_the_next_tick(
    sqlite_monitor: Monitor, log_lines: LogLines
) -> None:
    from ops_monitor.scheduling.history import ScheduleHistory

    replica = sqlite_monitor.replica(INCREMENTAL_ONLY)
    with replica.store.write() as connection:
        connection.execute(text("ALTER TABLE ops_state RENAME TO ops_state_away"))

    replica.scheduler.begin()  # 00:00:30
    with replica.store.write() as connection:
        connection.execute(text("ALTER TABLE ops_state_away RENAME TO ops_state"))
    sqlite_monitor.clock.set(utc("2026-03-02T04:00"))
    replica.scheduler.handle_due(sqlite_monitor.clock())

    assert len(log_lines.events("tick_failed")) == 1
    assert ScheduleHistory(replica.store).started_at() == {
        "incremental": utc("2026-03-02T00:00:30")
    }
    assert [scan.trigger for scan in sqlite_monitor.scans()] == ["incremental"]


def test_two_replicas_recording_their_start_keep_every_schedule(sqlite_monitor: Monitor) -> None:
    from ops_monitor.scheduling.history import ScheduleHistory

    first = sqlite_monitor.replica({"full": "0 2 * * *"})
    second = sqlite_monitor.replica(INCREMENTAL_ONLY)
    history = ScheduleHistory(first.store)

    history.record_start(first.scheduler.schedules, utc("2026-03-02T00:00"))
    history.record_start(second.scheduler.schedules, utc("2026-03-02T00:05"))
    history.record_start(first.scheduler.schedules, utc("2026-03-02T00:10"))

    assert history.started_at() == {
        "full": utc("2026-03-02T00:10"),
        "incremental": utc("2026-03-02T00:05"),
    }


def test_get_cron_on_a_fresh_database_without_a_scheduler_is_not_late(tmp_path: Path) -> None:
    settings = Settings(db_url=f"sqlite:///{tmp_path / 'ops.db'}", scheduler_enabled=False)

    with served(build_app(settings)) as server:
        body = httpx.get(f"{server.url}/api/ops/cron").json()

    assert body["late"] is False
    assert [(row["name"], row["late"], row["late_at"]) for row in body["schedules"]] == [
        ("full", False, None),
        ("incremental", False, None),
    ]


def test_status_reads_the_default_schedules_the_same_way_the_scheduler_does(
    sqlite_monitor: Monitor,
) -> None:
    """The catch-up decides from the same last success the status shows: after the catch-up, the
    status names that scan for both schedules."""
    replica = sqlite_monitor.replica()
    replica.scheduler.begin()
    (catch_up,) = sqlite_monitor.scans()

    status = cron_status(parse_schedules(None), replica.service, sqlite_monitor.clock() + HOUR)

    assert [row.last_success_scan_id for row in status.schedules] == [catch_up.id, catch_up.id]
