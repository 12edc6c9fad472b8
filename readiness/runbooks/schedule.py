"""Cron schedule maths for the runbooks: when each schedule fires, how long the longest wait is,
and which minutes fire several schedules at once.

Expressions are expanded over a fixed reference window, never "now", so the same configuration
always renders the same text. cronsim is imported where it is used.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import pairwise

# 2024-01-01 is a Monday; a leap year covers Feb 29.
REFERENCE_START = datetime(2024, 1, 1, tzinfo=UTC)
REFERENCE_WINDOW = timedelta(days=366)
MAX_FIRINGS = 5000
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


class InvalidCron(ValueError):
    """A cron expression cronsim refuses; the message is cronsim's."""


@dataclass(frozen=True)
class Schedule:
    """One cron schedule with what its expression means over the reference window."""

    name: str
    expression: str
    scope: str
    firings: tuple[datetime, ...]

    @property
    def runs_per_week(self) -> int:
        week_end = REFERENCE_START + timedelta(days=7)
        return sum(1 for moment in self.firings if moment < week_end)

    @property
    def longest_gap(self) -> timedelta | None:
        """The longest wait between two runs: a run is late only once this much time has passed."""
        if len(self.firings) < 2:
            return None
        return max(later - earlier for earlier, later in pairwise(self.firings))

    @property
    def daily_times(self) -> tuple[str, ...] | None:
        """The times of day it fires when every day of the reference week looks the same."""
        per_day: list[tuple[str, ...]] = []
        for day in range(7):
            start = REFERENCE_START + timedelta(days=day)
            end = start + timedelta(days=1)
            per_day.append(tuple(f"{m:%H:%M}" for m in self.firings if start <= m < end))
        if per_day[0] and all(times == per_day[0] for times in per_day):
            return per_day[0]
        return None

    @property
    def first_firings(self) -> tuple[str, ...]:
        return tuple(f"{WEEKDAYS[m.weekday()]} {m:%Y-%m-%d %H:%M}" for m in self.firings[:8])


@dataclass(frozen=True)
class Collision:
    """A minute that matches several schedules; the scheduler runs only the widest scope."""

    minute: str
    schedules: tuple[str, ...]
    runs: str


def firings(expression: str) -> tuple[datetime, ...]:
    """The moments `expression` fires in the reference window (at most MAX_FIRINGS of them)."""
    from cronsim import CronSim, CronSimError

    try:
        iterator = CronSim(expression, REFERENCE_START - timedelta(minutes=1))
    except CronSimError as error:
        raise InvalidCron(str(error)) from error
    end = REFERENCE_START + REFERENCE_WINDOW
    found: list[datetime] = []
    for moment in iterator:
        if moment >= end or len(found) >= MAX_FIRINGS:
            break
        found.append(moment)
    return tuple(found)


def find_collisions(schedules: Sequence[Schedule]) -> tuple[Collision, ...]:
    """Minutes of the reference week that fire more than one schedule, and which one runs."""
    week_end = REFERENCE_START + timedelta(days=7)
    by_minute: dict[datetime, list[Schedule]] = {}
    for schedule in schedules:
        for moment in schedule.firings:
            if moment < week_end:
                by_minute.setdefault(moment, []).append(schedule)
    collisions: dict[tuple[str, tuple[str, ...]], set[int]] = {}
    for moment, fired in sorted(by_minute.items()):
        if len(fired) > 1:
            key = (f"{moment:%H:%M}", tuple(s.name for s in fired))
            collisions.setdefault(key, set()).add(moment.weekday())
    result = []
    for (minute, names), days in collisions.items():
        when = "every day" if len(days) == 7 else ", ".join(WEEKDAYS[d] for d in sorted(days))
        fired = [s for s in schedules if s.name in names]
        winner = next((s for s in fired if s.scope == "full"), fired[0])
        result.append(Collision(minute=f"{minute} UTC, {when}", schedules=names, runs=winner.name))
    return tuple(result)
