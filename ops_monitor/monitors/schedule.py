"""When a monitored job is expected: a cron expression in a time zone, or a fixed interval.

Cron expressions are matched against wall time in the monitor's time zone (`zoneinfo`), with
cronsim's DST rules (those of cronie): a run whose local time is skipped by a spring-forward
change happens once, at the first valid minute after it; a local time that occurs twice when the
clocks go back runs once, the first time. An interval schedule expects the next run one interval
after the last check-in (healthchecks' "period"), so it drifts with the job, as the job does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cronsim import CronSim, CronSimError

UNITS: dict[str, timedelta] = {
    "minute": timedelta(minutes=1),
    "hour": timedelta(hours=1),
    "day": timedelta(days=1),
    "week": timedelta(weeks=1),
}
_FIELDS = ("minute", "hour", "day-of-month", "month", "day-of-week")


class ScheduleConfigError(ValueError):
    """A schedule or time zone that cannot be used; the message names the field."""


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleConfigError(
            f"timezone: unknown time zone {name!r} (an IANA name such as 'Europe/Berlin')"
        ) from None


@dataclass(frozen=True)
class CronSchedule:
    expression: str
    timezone: str = "UTC"

    def next_after(self, moment: datetime) -> datetime:
        """The first run strictly after `moment`, in UTC."""
        local = moment.astimezone(zone(self.timezone)).replace(microsecond=0)
        fire: datetime = next(CronSim(self.expression, local))
        return fire.astimezone(UTC)

    def describe(self) -> str | dict[str, object]:
        return self.expression


@dataclass(frozen=True)
class IntervalSchedule:
    interval: int
    unit: str

    @property
    def period(self) -> timedelta:
        return self.interval * UNITS[self.unit]

    def next_after(self, moment: datetime) -> datetime:
        return moment.astimezone(UTC) + self.period

    def describe(self) -> str | dict[str, object]:
        return {"interval": self.interval, "unit": self.unit}


Schedule = CronSchedule | IntervalSchedule


def parse_schedule(value: object, timezone: str = "UTC") -> Schedule:
    """A cron string, `{interval, unit}`, or Sentry's `{type: crontab|interval, value, unit}`."""
    if isinstance(value, str):
        return _cron(value, timezone)
    if isinstance(value, dict):
        kind = value.get("type")
        if kind == "crontab":
            return _cron(value.get("value"), timezone)
        if kind == "interval":
            return _interval(value.get("value"), value.get("unit"))
        if kind is not None:
            raise ScheduleConfigError(
                f"schedule.type: expected 'crontab' or 'interval', got {kind!r}"
            )
        unknown = sorted(set(value) - {"interval", "unit"})
        if unknown:
            raise ScheduleConfigError(f"schedule: unknown key {unknown[0]!r} (interval, unit)")
        return _interval(value.get("interval"), value.get("unit"))
    raise ScheduleConfigError(
        f"schedule: expected a cron expression or {{interval, unit}}, got {value!r}"
    )


def _cron(expression: object, timezone: str) -> CronSchedule:
    if not isinstance(expression, str) or not expression.strip():
        raise ScheduleConfigError(f"schedule: expected a cron expression, got {expression!r}")
    fields = expression.split()
    if len(fields) != len(_FIELDS):
        raise ScheduleConfigError(
            f"schedule: {expression!r} has {len(fields)} fields, expected 5 ({' '.join(_FIELDS)})"
        )
    zone(timezone)
    try:
        CronSim(" ".join(fields), datetime(2000, 1, 1, tzinfo=UTC))
    except CronSimError as error:
        raise ScheduleConfigError(f"schedule: {expression!r}: {error}") from None
    return CronSchedule(" ".join(fields), timezone)


def _interval(interval: object, unit: object) -> IntervalSchedule:
    if isinstance(interval, bool) or not isinstance(interval, int) or interval < 1:
        raise ScheduleConfigError(
            f"schedule.interval: expected a positive integer, got {interval!r}"
        )
    if not isinstance(unit, str) or unit.rstrip("s") not in UNITS:
        raise ScheduleConfigError(
            f"schedule.unit: expected one of {', '.join(UNITS)}, got {unit!r}"
        )
    return IntervalSchedule(interval, unit.rstrip("s"))
