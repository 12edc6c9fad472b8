"""Cron schedules, validated when configuration loads and evaluated in UTC only.

Every time here is a timezone-aware UTC datetime: cron expressions are matched against UTC wall
time, so neither the host's time zone nor a DST change can move a run. A schedule is configured
as `name: "cron"` (the name is then the scope it scans, `full` or `incremental`) or as
`name: {cron: "...", scope: "..."}`. When several fire in the same minute the full scan wins,
because it covers everything an incremental one would read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import cast, get_args

from cronsim import CronSim, CronSimError

from ops_monitor.models import Scope

DEFAULT_SCHEDULES: dict[str, str] = {"full": "0 2 * * *", "incremental": "0 */4 * * *"}

# Fields of a five-field expression, in order, as cronsim names them in its errors.
_FIELDS = ("minute", "hour", "day-of-month", "month", "day-of-week")
_SCOPES: tuple[str, ...] = get_args(Scope)
# The full scan outranks the incremental one when both are due in the same minute.
_PRIORITY = {"full": 0, "incremental": 1}


class ScheduleError(ValueError):
    """A schedule in configuration is invalid; the message names the schedule and the field."""


@dataclass(frozen=True)
class Schedule:
    """One named cron expression that starts scans of one scope."""

    name: str
    expression: str
    scope: Scope

    @property
    def priority(self) -> tuple[int, str]:
        return (_PRIORITY[self.scope], self.name)

    def next_fire(self, after: datetime) -> datetime:
        """The first firing strictly after `after`."""
        result: datetime = next(CronSim(self.expression, _utc(after)))
        return result

    def previous_fire(self, at: datetime) -> datetime:
        """The latest firing at or before `at`."""
        start = _utc(at).replace(microsecond=0) + timedelta(seconds=1)
        result: datetime = next(CronSim(self.expression, start, reverse=True))
        return result

    def fires_between(self, start: datetime, end: datetime) -> list[datetime]:
        """Every firing in the half-open interval (start, end]."""
        fires: list[datetime] = []
        fire = self.next_fire(start)
        while fire <= end:
            fires.append(fire)
            fire = self.next_fire(fire)
        return fires

    def period(self, at: datetime) -> timedelta:
        """The gap between the two most recent firings at or before `at`: how often it runs."""
        latest = self.previous_fire(at)
        return latest - self.previous_fire(latest - timedelta(seconds=1))


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("scheduler times must be timezone-aware")
    return moment.astimezone(UTC)


def parse_schedule(name: str, value: object) -> Schedule:
    """Validate one configured schedule, naming it and the bad field on error."""
    scope: object = name
    expression = value
    if isinstance(value, Mapping):
        unknown = sorted(set(value) - {"cron", "scope"})
        if unknown:
            raise ScheduleError(f"schedule {name!r}: unknown key {unknown[0]!r} (cron, scope)")
        expression = value.get("cron")
        scope = value.get("scope", name)
    if scope not in _SCOPES:
        raise ScheduleError(
            f"schedule {name!r}: unknown scope {scope!r}; name the schedule after the scope it "
            f"scans or give its scope ({' or '.join(_SCOPES)})"
        )
    if not isinstance(expression, str):
        raise ScheduleError(f"schedule {name!r}: cron: expected a cron expression string")
    fields = expression.split()
    if len(fields) != len(_FIELDS):
        raise ScheduleError(
            f"schedule {name!r}: {expression!r} has {len(fields)} fields, expected 5 "
            f"({' '.join(_FIELDS)})"
        )
    try:
        CronSim(expression, datetime(2000, 1, 1, tzinfo=UTC))
    except CronSimError as error:
        raise ScheduleError(f"schedule {name!r}: {_explain(str(error), fields)}") from None
    return Schedule(name=name, expression=" ".join(fields), scope=cast(Scope, scope))


def _explain(message: str, fields: list[str]) -> str:
    """Turn cronsim's 'Bad hour' into 'bad hour field '25''."""
    for index, field in enumerate(_FIELDS):
        if message.lower() == f"bad {field}":
            return f"bad {field} field {fields[index]!r}"
    return message  # pragma: no cover - cronsim names a field in every error we can reach


def parse_schedules(config: Mapping[str, object] | None) -> list[Schedule]:
    """All configured schedules, full first; `None` means the defaults."""
    entries = DEFAULT_SCHEDULES if config is None else config
    schedules = [parse_schedule(name, expression) for name, expression in entries.items()]
    return sorted(schedules, key=lambda schedule: schedule.priority)
