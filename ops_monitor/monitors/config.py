"""A monitor's configuration, with Sentry's `monitor_config` names and meanings.

Durations are minutes, as in Sentry: `checkin_margin` is how long after the expected time a
check-in may still arrive before the run counts as missed; `start_grace` (optional, at most the
margin) is how long before the monitor shows `late` while it waits, so that "started late" and
"missed" can be told apart; `max_runtime` is how long a run may stay in progress before it counts
as timed out. `failure_issue_threshold` consecutive failures file an issue, and
`recovery_threshold` consecutive successes resolve it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from ops_monitor.monitors.schedule import Schedule, ScheduleConfigError, parse_schedule, zone

SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,99}$")
KEYS = (
    "schedule",
    "timezone",
    "checkin_margin",
    "max_runtime",
    "start_grace",
    "failure_issue_threshold",
    "recovery_threshold",
)
_MAX_MINUTES = 60 * 24 * 366


class MonitorConfigError(ValueError):
    """A monitor configuration that cannot be used; the message names the field."""


@dataclass(frozen=True)
class MonitorConfig:
    schedule: Schedule
    timezone: str = "UTC"
    checkin_margin: timedelta = field(default=timedelta(minutes=5))
    max_runtime: timedelta = field(default=timedelta(minutes=30))
    start_grace: timedelta | None = None
    failure_issue_threshold: int = 1
    recovery_threshold: int = 1

    @property
    def late_after(self) -> timedelta:
        """How long after the expected time the monitor waits before showing `late`."""
        return self.start_grace if self.start_grace is not None else timedelta(0)

    def to_json(self) -> dict[str, Any]:
        return {
            "schedule": self.schedule.describe(),
            "timezone": self.timezone,
            "checkin_margin": _minutes(self.checkin_margin),
            "max_runtime": _minutes(self.max_runtime),
            "start_grace": None if self.start_grace is None else _minutes(self.start_grace),
            "failure_issue_threshold": self.failure_issue_threshold,
            "recovery_threshold": self.recovery_threshold,
        }


def _minutes(delta: timedelta) -> float | int:
    value = delta / timedelta(minutes=1)
    return int(value) if value.is_integer() else value


def check_slug(slug: object) -> str:
    if not isinstance(slug, str) or not SLUG.match(slug):
        raise MonitorConfigError(
            f"slug: {slug!r} must be 1-100 lower-case letters, digits, '-' or '_', "
            "starting with a letter or digit"
        )
    return slug


def parse_monitor_config(data: Mapping[str, Any], where: str = "monitor_config") -> MonitorConfig:
    """Validate a `monitor_config` object; errors start with `where` and name the field."""
    if not isinstance(data, Mapping):
        raise MonitorConfigError(f"{where}: expected an object, got {data!r}")
    unknown = sorted(set(data) - set(KEYS))
    if unknown:
        raise MonitorConfigError(f"{where}: unknown key {unknown[0]!r} ({', '.join(KEYS)})")
    if "schedule" not in data:
        raise MonitorConfigError(f"{where}: schedule is required")
    timezone = data.get("timezone") or "UTC"
    try:
        if not isinstance(timezone, str):
            raise ScheduleConfigError(f"timezone: expected a time zone name, got {timezone!r}")
        zone(timezone)
        schedule = parse_schedule(data["schedule"], timezone)
    except ScheduleConfigError as error:
        raise MonitorConfigError(f"{where}.{error}") from None
    margin = _duration(data, "checkin_margin", 5, where, allow_zero=False)
    grace = None if data.get("start_grace") is None else _duration(data, "start_grace", 0, where)
    if grace is not None and grace > margin:
        raise MonitorConfigError(
            f"{where}.start_grace: must be at most checkin_margin ({_minutes(margin)} min)"
        )
    return MonitorConfig(
        schedule=schedule,
        timezone=timezone,
        checkin_margin=margin,
        max_runtime=_duration(data, "max_runtime", 30, where, allow_zero=False),
        start_grace=grace,
        failure_issue_threshold=_count(data, "failure_issue_threshold", where),
        recovery_threshold=_count(data, "recovery_threshold", where),
    )


def _duration(
    data: Mapping[str, Any], key: str, default: float, where: str, *, allow_zero: bool = True
) -> timedelta:
    value = data.get(key)
    if value is None:
        value = default
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise MonitorConfigError(f"{where}.{key}: expected a number of minutes, got {value!r}")
    if not (0 <= value <= _MAX_MINUTES) or (value == 0 and not allow_zero):
        bound = "at least 0" if allow_zero else "positive"
        raise MonitorConfigError(
            f"{where}.{key}: must be {bound} and at most {_MAX_MINUTES} minutes, got {value!r}"
        )
    return timedelta(minutes=value)


def _count(data: Mapping[str, Any], key: str, where: str) -> int:
    value = data.get(key, 1)
    if value is None:
        value = 1
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 1000:
        raise MonitorConfigError(
            f"{where}.{key}: expected a whole number from 1 to 1000, got {value!r}"
        )
    return value
