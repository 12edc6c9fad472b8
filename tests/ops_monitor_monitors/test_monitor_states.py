"""Every state and transition of a cron monitor, driven by a fake clock over a real database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ops_monitor.models import IssueStatus
from ops_monitor.monitors.config import MonitorConfigError, parse_monitor_config

from .conftest import START, Harness

HOUR = timedelta(hours=1)


def test_a_new_monitor_expects_its_first_run_at_the_next_tick(harness: Harness) -> None:
    declared = harness.declare(schedule="0 * * * *")

    assert declared.state == "new"
    assert declared.created
    assert declared.next_expected == START + HOUR
    assert len(declared.ping_key) >= 20


def test_a_run_on_time_is_ok_and_moves_the_expected_time(harness: Harness) -> None:
    harness.declare()
    harness.run_until(START + HOUR)

    harness.check_in("ok")

    shown = harness.show()
    assert shown.state == "ok"
    assert shown.next_expected == START + 2 * HOUR
    assert [c.status for c in shown.checkins] == ["ok"]
    assert harness.changes[-1].previous == "new"
    assert harness.changes[-1].state == "ok"


def test_waiting_inside_the_margin_is_late_then_missed_after_it(harness: Harness) -> None:
    harness.declare(checkin_margin=5, start_grace=1)
    harness.run_until(START + HOUR + timedelta(seconds=30))
    assert harness.state() == "new"  # inside start_grace: not late yet

    harness.run_until(START + HOUR + timedelta(minutes=2))
    assert harness.state() == "late"
    assert harness.metric("ops_monitor_cron_monitor_state", monitor="job", state="late") == 1
    assert harness.metric("ops_monitor_cron_monitor_seconds_late", monitor="job") == 120

    harness.run_until(START + HOUR + timedelta(minutes=6))
    shown = harness.show()
    assert shown.state == "missed"
    assert shown.checkins[0].status == "missed"
    assert shown.checkins[0].slot == START + HOUR
    assert [(c.previous, c.state) for c in harness.changes] == [("new", "late"), ("late", "missed")]


def test_a_missed_run_is_known_within_margin_plus_a_minute(harness: Harness) -> None:
    harness.declare(checkin_margin=5)

    harness.run_until(START + HOUR + timedelta(minutes=5, seconds=60))

    assert harness.state() == "missed"
    (missed,) = [c for c in harness.changes if c.state == "missed"]
    assert missed.at <= START + HOUR + timedelta(minutes=5, seconds=60)


def test_a_late_check_in_inside_the_margin_is_ok(harness: Harness) -> None:
    harness.declare(checkin_margin=5)
    harness.run_until(START + HOUR + timedelta(minutes=3))
    assert harness.state() == "late"

    harness.check_in("ok")
    harness.advance(minutes=10)

    assert harness.state() == "ok"
    assert harness.issues() == []


def test_one_missed_run_files_a_cron_missed_issue_at_threshold_one(harness: Harness) -> None:
    harness.declare(checkin_margin=5)

    harness.run_until(START + HOUR + timedelta(minutes=6))

    (issue,) = harness.issues()
    assert issue.title == "Cron job job missed a run"
    assert issue.status is IssueStatus.NEW
    assert "no check-in for the run expected at 2026-03-02T01:00:00Z" in issue.samples[0]


def test_failures_below_the_threshold_file_nothing_then_one_issue(harness: Harness) -> None:
    harness.declare(checkin_margin=5, failure_issue_threshold=3)

    harness.run_until(START + 2 * HOUR + timedelta(minutes=6))
    assert harness.issues() == []
    assert harness.show().consecutive_failures == 2

    harness.run_until(START + 3 * HOUR + timedelta(minutes=6))
    (issue,) = harness.issues()
    assert issue.occurrences == 3

    harness.run_until(START + 4 * HOUR + timedelta(minutes=6))
    (issue,) = harness.issues()
    assert issue.status is IssueStatus.ONGOING
    assert issue.occurrences == 4


def test_a_success_between_failures_restarts_the_count(harness: Harness) -> None:
    harness.declare(checkin_margin=5, failure_issue_threshold=2)
    harness.run_until(START + HOUR + timedelta(minutes=6))  # missed
    harness.run_until(START + 2 * HOUR)
    harness.check_in("ok")
    harness.run_until(START + 3 * HOUR + timedelta(minutes=6))  # missed again

    assert harness.issues() == []
    assert harness.show().consecutive_failures == 1


def test_recovery_threshold_successes_resolve_and_a_relapse_regresses(harness: Harness) -> None:
    harness.declare(checkin_margin=5, recovery_threshold=2)
    harness.run_until(START + HOUR + timedelta(minutes=6))
    (issue,) = harness.issues()

    harness.run_until(START + 2 * HOUR)
    harness.check_in("ok")
    assert len(harness.issues()) == 1  # one success is not a recovery yet
    harness.run_until(START + 3 * HOUR)
    harness.check_in("ok")

    assert harness.issues() == []
    (resolved,) = harness.issues(IssueStatus.RESOLVED)
    assert resolved.resolution == "recovered: 2 consecutive successful run(s)"
    assert not harness.show().incident

    harness.run_until(START + 4 * HOUR + timedelta(minutes=6))
    (again,) = harness.issues()
    assert again.id == issue.id
    assert again.status is IssueStatus.REGRESSED


def test_an_error_check_in_files_a_cron_failed_issue(harness: Harness) -> None:
    harness.declare()
    harness.run_until(START + HOUR)
    harness.check_in("in_progress", checkin_id="run-1")
    harness.advance(minutes=2)

    harness.check_in("error", checkin_id="run-1")

    shown = harness.show()
    assert shown.state == "error"
    assert shown.checkins[0].status == "error"
    assert shown.checkins[0].duration == 120
    (issue,) = harness.issues()
    assert issue.title == "Cron job job reported a failed run"


def test_a_run_in_progress_beyond_max_runtime_times_out(harness: Harness) -> None:
    harness.declare(max_runtime=10)
    harness.run_until(START + HOUR)
    harness.check_in("in_progress", checkin_id="slow")

    harness.advance(minutes=9)
    assert harness.state() == "new"
    harness.advance(minutes=2)

    shown = harness.show()
    assert shown.state == "timed_out"
    assert shown.checkins[0].status == "timed_out"
    (issue,) = harness.issues()
    assert issue.title == "Cron job job ran longer than its max_runtime"

    harness.advance(minutes=5)
    harness.check_in("ok", checkin_id="slow")  # it did finish, too late: the outcome stands

    finished = harness.show().checkins[0]
    assert finished.status == "timed_out"
    assert finished.duration == 16 * 60
    assert harness.state() == "timed_out"


def test_overlapping_runs_are_told_apart_by_check_in_id(harness: Harness) -> None:
    harness.declare(schedule="*/10 * * * *", max_runtime=15, checkin_margin=2)
    harness.run_until(START + timedelta(minutes=10))
    first = harness.check_in("in_progress", checkin_id="a")
    harness.run_until(START + timedelta(minutes=20))
    second = harness.check_in("in_progress", checkin_id="b")
    harness.advance(minutes=1)

    harness.check_in("ok", checkin_id="b")
    harness.advance(minutes=5)  # run a is now 16 minutes old

    runs = {c.checkin_id: c for c in harness.show().checkins}
    assert (first, second) == ("a", "b")
    assert runs["b"].status == "ok"
    assert runs["b"].duration == 60
    assert runs["a"].status == "timed_out"
    assert harness.state() == "timed_out"


def test_a_finish_without_id_closes_the_latest_run_in_progress(harness: Harness) -> None:
    harness.declare()
    harness.run_until(START + HOUR)
    started = harness.check_in("in_progress")
    harness.advance(minutes=3)

    finished = harness.check_in("ok")

    assert finished == started
    (run,) = harness.show().checkins
    assert (run.status, run.duration) == ("ok", 180)


def test_a_check_in_without_a_start_is_one_finished_run(harness: Harness) -> None:
    harness.declare()
    harness.run_until(START + HOUR + timedelta(seconds=20))

    harness.check_in("ok", duration=12.5)

    (run,) = harness.show().checkins
    assert run.duration == 12.5
    assert run.started_at == START + HOUR + timedelta(seconds=7.5)
    assert run.slot == START + HOUR


def test_paused_monitors_miss_nothing_and_resume_from_now(harness: Harness) -> None:
    harness.declare(checkin_margin=5)
    harness.monitors.pause("job")
    harness.run_until(START + 5 * HOUR)
    assert harness.state() == "paused"
    assert harness.show().checkins == []

    resumed = harness.monitors.resume("job")

    assert resumed.state == "new"
    assert resumed.next_expected == START + 6 * HOUR
    assert harness.issues() == []


def test_slots_while_the_monitor_was_down_are_unknown_not_missed(harness: Harness) -> None:
    harness.declare(checkin_margin=5)
    harness.run_until(START + HOUR)
    harness.check_in("ok")
    harness.advance(minutes=10)

    harness.at(START + 4 * HOUR + timedelta(minutes=30))  # down from 01:10 to 04:30
    harness.monitors.evaluate()

    shown = harness.show()
    assert shown.state == "unknown"
    (unknown, earlier) = shown.checkins
    assert earlier.status == "ok"
    assert (unknown.status, unknown.slots, unknown.slot) == ("unknown", 3, START + 2 * HOUR)
    assert "not running from 2026-03-02T01:10:00Z" in (unknown.excerpt or "")
    assert harness.issues() == []
    assert shown.next_expected == START + 5 * HOUR

    harness.run_until(START + 5 * HOUR + timedelta(minutes=6))  # up again: a real miss
    assert harness.state() == "missed"
    assert len(harness.issues()) == 1


def test_a_run_whose_window_straddles_the_outage_is_unknown(harness: Harness) -> None:
    harness.declare(checkin_margin=5)
    harness.run_until(START + HOUR + timedelta(minutes=2))  # down at 01:02, inside the window

    harness.at(START + HOUR + timedelta(minutes=20))
    harness.monitors.evaluate()

    assert harness.show().checkins[0].status == "unknown"
    assert harness.issues() == []


def test_a_run_in_progress_during_an_outage_does_not_time_out(harness: Harness) -> None:
    harness.declare(max_runtime=10)
    harness.run_until(START + HOUR)
    harness.check_in("in_progress", checkin_id="r")
    harness.advance(minutes=5)

    harness.at(START + HOUR + timedelta(minutes=40))
    harness.monitors.evaluate()

    assert {c.checkin_id: c.status for c in harness.show().checkins}["r"] == "unknown"
    assert harness.issues() == []


def test_a_cron_in_a_time_zone_follows_its_wall_clock_across_dst(harness: Harness) -> None:
    harness.at(datetime(2026, 3, 28, 12, 0, tzinfo=UTC))
    declared = harness.declare(schedule="30 2 * * *", timezone="Europe/Berlin")
    assert declared.next_expected == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)  # 02:30 skipped

    harness.at(datetime(2026, 3, 29, 1, 0, 10, tzinfo=UTC))
    harness.check_in("ok")

    assert harness.show().next_expected == datetime(2026, 3, 30, 0, 30, tzinfo=UTC)


def test_the_repeated_hour_when_clocks_go_back_runs_once(harness: Harness) -> None:
    harness.at(datetime(2026, 10, 24, 12, 0, tzinfo=UTC))
    harness.declare(schedule="30 2 * * *", timezone="Europe/Berlin", checkin_margin=5)
    harness.run_until(datetime(2026, 10, 25, 0, 30, tzinfo=UTC), step=timedelta(minutes=10))
    harness.check_in("ok")  # 02:30 CEST

    harness.run_until(datetime(2026, 10, 25, 2, 0, tzinfo=UTC), step=timedelta(minutes=1))

    assert harness.state() == "ok"  # 02:30 CET, an hour later, is not expected again
    assert harness.show().next_expected == datetime(2026, 10, 26, 1, 30, tzinfo=UTC)


def test_an_interval_schedule_expects_the_next_run_one_period_after_the_last(
    harness: Harness,
) -> None:
    harness.declare(schedule={"interval": 2, "unit": "hour"}, checkin_margin=10)
    harness.run_until(START + timedelta(minutes=90))
    harness.check_in("ok")

    assert harness.show().next_expected == START + timedelta(minutes=210)
    harness.run_until(START + timedelta(minutes=221))
    assert harness.state() == "missed"


def test_a_check_in_with_monitor_config_creates_the_monitor(harness: Harness) -> None:
    harness.run_until(START + timedelta(minutes=1))

    harness.check_in(
        "in_progress",
        slug="nightly",
        monitor_config={"schedule": {"type": "crontab", "value": "0 2 * * *"}, "max_runtime": 60},
    )

    shown = harness.show("nightly")
    assert shown.origin == "checkin"
    assert shown.config["max_runtime"] == 60
    assert shown.next_expected == START + 2 * HOUR  # a run long before 02:00 is an extra one


def test_a_history_declared_since_the_past_counts_its_gaps_as_missed(harness: Harness) -> None:
    harness.at(START + 72 * HOUR)
    harness.monitors.declare("daily", parse_monitor_config({"schedule": "0 2 * * *"}), since=START)
    harness.check_in("ok", slug="daily", timestamp=START + 2 * HOUR + timedelta(seconds=4))
    harness.check_in("ok", slug="daily", timestamp=START + 50 * HOUR + timedelta(seconds=4))

    harness.advance(seconds=30)

    runs = [(c.status, c.slot) for c in harness.show("daily").checkins]
    assert runs == [
        ("ok", START + 50 * HOUR),
        ("missed", START + 26 * HOUR),
        ("ok", START + 2 * HOUR),
    ]
    assert harness.show("daily").counts == {"ok": 1}  # the last 24 h


def test_metrics_count_check_ins_and_durations(harness: Harness) -> None:
    harness.declare()
    harness.run_until(START + HOUR)
    harness.check_in("in_progress", checkin_id="m")
    harness.advance(seconds=90)
    harness.check_in("ok", checkin_id="m")

    assert harness.metric("ops_monitor_cron_monitor_checkins_total", monitor="job", status="ok")
    assert harness.metric("ops_monitor_cron_monitor_state", monitor="job", state="ok") == 1
    assert harness.metric("ops_monitor_cron_monitor_state", monitor="job", state="new") == 0
    assert harness.metric("ops_monitor_cron_monitor_run_duration_seconds_sum", monitor="job") == 90
    assert (
        harness.metric("ops_monitor_cron_monitor_last_checkin_timestamp_seconds", monitor="job")
        == (START + HOUR + timedelta(seconds=90)).timestamp()
    )


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({}, "monitor_config: schedule is required"),
        ({"schedule": "0 2 * *"}, "monitor_config.schedule: '0 2 * *' has 4 fields"),
        ({"schedule": "0 2 * * *", "timezone": "Mars/Base"}, "monitor_config.timezone: unknown"),
        ({"schedule": {"interval": 0, "unit": "hour"}}, "monitor_config.schedule.interval"),
        ({"schedule": {"interval": 1, "unit": "fortnight"}}, "monitor_config.schedule.unit"),
        ({"schedule": "* * * * *", "checkin_margin": -1}, "monitor_config.checkin_margin"),
        ({"schedule": "* * * * *", "start_grace": 9}, "monitor_config.start_grace: must be"),
        ({"schedule": "* * * * *", "recovery_threshold": 0}, "monitor_config.recovery_thresh"),
        ({"schedule": "* * * * *", "colour": "red"}, "monitor_config: unknown key 'colour'"),
    ],
)
def test_a_bad_configuration_names_its_field(config: dict[str, object], message: str) -> None:
    with pytest.raises(MonitorConfigError) as raised:
        parse_monitor_config(config)

    assert str(raised.value).startswith(message)
