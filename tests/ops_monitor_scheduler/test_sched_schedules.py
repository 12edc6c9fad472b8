"""Schedules: validated at load with errors naming the schedule and the field; evaluated in UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from ops_monitor.scheduling.schedules import (
    DEFAULT_SCHEDULES,
    Schedule,
    ScheduleError,
    parse_schedule,
    parse_schedules,
)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_defaults_are_daily_full_and_four_hourly_incremental_full_first() -> None:
    schedules = parse_schedules(None)

    assert [(s.name, s.expression, s.scope) for s in schedules] == [
        ("full", "0 2 * * *", "full"),
        ("incremental", "0 */4 * * *", "incremental"),
    ]
    assert DEFAULT_SCHEDULES == {"full": "0 2 * * *", "incremental": "0 */4 * * *"}


def test_configured_order_does_not_matter() -> None:
    schedules = parse_schedules({"incremental": "*/5 * * * *", "full": "30 1 * * 0"})

    assert [s.name for s in schedules] == ["full", "incremental"]


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("61 2 * * *", "schedule 'full': bad minute field '61'"),
        ("0 25 * * *", "schedule 'full': bad hour field '25'"),
        ("0 2 32 * *", "schedule 'full': bad day-of-month field '32'"),
        ("0 2 * 13 *", "schedule 'full': bad month field '13'"),
        ("0 2 * * MONDAY", "schedule 'full': bad day-of-week field 'MONDAY'"),
        ("0 2 * *", "schedule 'full': '0 2 * *' has 4 fields, expected 5"),
        ("0 0 2 * * *", "schedule 'full': '0 0 2 * * *' has 6 fields, expected 5"),
    ],
)
def test_invalid_expression_names_schedule_and_field(expression: str, message: str) -> None:
    with pytest.raises(ScheduleError) as caught:
        parse_schedule("full", expression)

    assert str(caught.value).startswith(message)


def test_a_name_that_is_not_a_scope_needs_one() -> None:
    with pytest.raises(ScheduleError, match=r"unknown scope 'hourly'.*full or incremental"):
        parse_schedules({"hourly": "0 * * * *"})


def test_long_form_names_its_scope() -> None:
    (hourly,) = parse_schedules({"hourly": {"cron": "5 * * * *", "scope": "incremental"}})

    assert (hourly.name, hourly.expression, hourly.scope) == ("hourly", "5 * * * *", "incremental")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (5, "schedule 'full': cron: expected a cron expression string"),
        ({"scope": "full"}, "schedule 'full': cron: expected a cron expression string"),
        ({"cron": "0 2 * * *", "when": "x"}, "schedule 'full': unknown key 'when' (cron, scope)"),
        ({"cron": "0 2 * * *", "scope": "all"}, "schedule 'full': unknown scope 'all'"),
    ],
)
def test_malformed_values_are_rejected(value: object, message: str) -> None:
    with pytest.raises(ScheduleError) as caught:
        parse_schedule("full", value)

    assert str(caught.value).startswith(message)


def test_next_and_previous_fire_are_utc_minutes_whatever_the_input_offset() -> None:
    full = Schedule("full", "0 2 * * *", "full")
    new_york_evening = datetime(2026, 3, 7, 20, 30, tzinfo=timezone(timedelta(hours=-5)))

    assert full.next_fire(new_york_evening) == at("2026-03-08T02:00:00")  # 01:30 UTC
    assert full.next_fire(at("2026-03-08T02:00:00")) == at("2026-03-09T02:00:00")
    assert full.previous_fire(at("2026-03-08T02:00:00")) == at("2026-03-08T02:00:00")
    assert full.previous_fire(at("2026-03-08T01:59:59.5")) == at("2026-03-07T02:00:00")


def test_fires_between_is_half_open_and_period_is_the_gap() -> None:
    incremental = Schedule("incremental", "0 */4 * * *", "incremental")

    fires = incremental.fires_between(at("2026-01-01T00:00:00"), at("2026-01-01T12:00:00"))

    assert fires == [
        at("2026-01-01T04:00:00"),
        at("2026-01-01T08:00:00"),
        at("2026-01-01T12:00:00"),
    ]
    assert incremental.period(at("2026-01-01T13:00:00")) == timedelta(hours=4)
    assert Schedule("full", "0 2 * * *", "full").period(at("2026-01-01T13:00:00")) == timedelta(
        days=1
    )


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        Schedule("full", "0 2 * * *", "full").next_fire(datetime(2026, 1, 1))
