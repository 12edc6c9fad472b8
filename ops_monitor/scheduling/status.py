"""Cron health for people and gates: next run, last run and outcome, and a dead man's switch.

A schedule is late when a tick of it was due after the moment we started watching it — the later
of its last success and the last start of a scheduler running it — and no success followed within
the grace. "Success" is defined once, in `scheduling/history.py`, for this and for the
scheduler's catch-up alike: a completed unfiltered scan covering the schedule's scope, whatever
started it (a manual full scan keeps `full` on time). A schedule that never succeeded and that no
scheduler ever started is not late but "never ran": nothing was ever due. Answered from the
database, so it works even when the scheduler process is the thing that died.

`GET /api/ops/cron` and `ops-monitor cron status --json` return `CronStatus` as JSON:

    {"now": "...Z", "grace_seconds": 3600, "running_scan_id": null, "late": false,
     "schedules": [{"name": "full", "expression": "0 2 * * *", "scope": "full",
                    "period_seconds": 86400,
                    "next_run": "...Z",            # the next tick at which it will run
                    "last_run": "...Z" | null,     # its own last run, whatever the outcome
                    "last_outcome": "completed" | "failed" | "running" | null,
                    "last_scan_id": 7 | null,
                    "last_success": "...Z" | null, # when the success counting for it finished
                    "late_at": "...Z" | null,      # null: nothing is due yet (never ran)
                    "late": false,
                    # added fields:
                    "state": "on time" | "late" | "never ran",
                    "last_success_scan_id": 7 | null, "last_success_trigger": "full" | null,
                    "scheduler_started": "...Z" | null,
                    "next_tick": "...Z",           # its next cron match, maybe superseded
                    "next_tick_superseded_by": "full" | null}, ...]}
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Literal

from pydantic import BaseModel

from ops_monitor.models import ScanStatus, Scope
from ops_monitor.ports import ScanHistory
from ops_monitor.scheduling.history import ScheduleHistory
from ops_monitor.scheduling.schedules import Schedule

DEFAULT_GRACE = timedelta(hours=1)
_LOOKAHEAD_TICKS = 1000  # how far to look for a tick that no other schedule supersedes
LATE_RULE = (
    "late: a tick was due after the later of the last success and the scheduler's start, and no "
    "success followed within the grace; a completed full scan (scheduled, manual or API) counts "
    "as a success for every schedule, an incremental scan for incremental ones, a filtered scan "
    "for none"
)


class ScheduleHealth(BaseModel):
    name: str
    expression: str
    scope: Scope
    period_seconds: int
    next_run: datetime
    last_run: datetime | None
    last_outcome: ScanStatus | None
    last_scan_id: int | None
    last_success: datetime | None
    late_at: datetime | None
    late: bool
    state: Literal["on time", "late", "never ran"] = "on time"
    last_success_scan_id: int | None = None
    last_success_trigger: str | None = None
    scheduler_started: datetime | None = None
    next_tick: datetime | None = None
    next_tick_superseded_by: str | None = None


class CronStatus(BaseModel):
    now: datetime
    grace_seconds: int
    running_scan_id: int | None
    late: bool
    schedules: list[ScheduleHealth]


def superseded_by(schedule: Schedule, schedules: list[Schedule], tick: datetime) -> str | None:
    """The schedule that runs instead of `schedule` at `tick`, if one outranks it there."""
    just_before = tick - timedelta(seconds=1)
    for other in schedules:
        if other.priority < schedule.priority and other.next_fire(just_before) == tick:
            return other.name
    return None


def next_run(schedule: Schedule, schedules: list[Schedule], now: datetime) -> datetime:
    """Its first tick after `now` that no other schedule supersedes (its next cron match when
    every tick in the lookahead is superseded)."""
    first = tick = schedule.next_fire(now)
    for _ in range(_LOOKAHEAD_TICKS):
        if superseded_by(schedule, schedules, tick) is None:
            return tick
        tick = schedule.next_fire(tick)
    return first


def schedule_health(
    schedule: Schedule,
    history: ScanHistory,
    now: datetime,
    grace: timedelta,
    *,
    schedules: list[Schedule] | None = None,
    records: ScheduleHistory | None = None,
    starts: dict[str, datetime] | None = None,
) -> ScheduleHealth:
    records = records or ScheduleHistory(history.store)
    everyone = schedules or [schedule]
    started = (records.started_at() if starts is None else starts).get(schedule.name)
    last = history.last_scan(trigger=schedule.name)
    success = records.last_success(schedule)
    success_at = None if success is None else (success.finished_at or success.started_at)
    watched_since = max((m for m in (started, success_at) if m is not None), default=None)
    late_at = None if watched_since is None else schedule.next_fire(watched_since) + grace
    late = late_at is not None and now > late_at
    tick = schedule.next_fire(now)
    return ScheduleHealth(
        name=schedule.name,
        expression=schedule.expression,
        scope=schedule.scope,
        period_seconds=int(schedule.period(now).total_seconds()),
        next_run=next_run(schedule, everyone, now),
        last_run=None if last is None else last.started_at,
        last_outcome=None if last is None else last.status,
        last_scan_id=None if last is None else last.id,
        last_success=success_at,
        late_at=late_at,
        late=late,
        state="late" if late else ("never ran" if last is None and success is None else "on time"),
        last_success_scan_id=None if success is None else success.id,
        last_success_trigger=None if success is None else success.trigger,
        scheduler_started=started,
        next_tick=tick,
        next_tick_superseded_by=superseded_by(schedule, everyone, tick),
    )


def cron_status(
    schedules: list[Schedule], history: ScanHistory, now: datetime, grace: timedelta = DEFAULT_GRACE
) -> CronStatus:
    healths: list[ScheduleHealth] = []
    if schedules:
        records = ScheduleHistory(history.store)
        starts = records.started_at()
        healths = [
            schedule_health(
                schedule,
                history,
                now,
                grace,
                schedules=schedules,
                records=records,
                starts=starts,
            )
            for schedule in schedules
        ]
    return CronStatus(
        now=now,
        grace_seconds=int(grace.total_seconds()),
        running_scan_id=history.running_scan_id(),
        late=any(health.late for health in healths),
        schedules=healths,
    )


class CronView:
    """The configured schedules, the grace and the clock: everything a cron status needs besides
    the scan history. `ops-monitor serve` puts one on `app.state.cron` for `GET /api/ops/cron`."""

    def __init__(
        self,
        schedules: list[Schedule],
        grace: timedelta = DEFAULT_GRACE,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.schedules = schedules
        self.grace = grace
        self.clock = clock or (lambda: datetime.now(UTC))

    def status(self, history: ScanHistory) -> CronStatus:
        return cron_status(self.schedules, history, self.clock(), self.grace)
