"""Cron health for people and gates: next run, last run and outcome, and a dead man's switch.

A schedule is late when its last successful run finished longer ago than its period plus a grace
(or it never succeeded): the one question "is the scheduler actually doing its job?" answered from
the scan history, so it works even when the scheduler process is the thing that died.

`GET /api/ops/cron` and `ops-monitor cron status --json` return `CronStatus` as JSON:

    {"now": "...Z", "grace_seconds": 3600, "running_scan_id": null, "late": false,
     "schedules": [{"name": "full", "expression": "0 2 * * *", "scope": "full",
                    "period_seconds": 86400, "next_run": "...Z", "last_run": "...Z" | null,
                    "last_outcome": "completed" | "failed" | "running" | null,
                    "last_scan_id": 7 | null, "last_success": "...Z" | null,
                    "late_at": "...Z" | null, "late": false}, ...]}
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol

from pydantic import BaseModel

from ops_monitor.models import ScanResult, ScanStatus, Scope
from ops_monitor.scheduling.schedules import Schedule

DEFAULT_GRACE = timedelta(hours=1)


class ScanHistory(Protocol):
    """The read side of the service that cron health needs."""

    def running_scan_id(self) -> int | None: ...

    def last_scan(
        self,
        scope: Scope | None = None,
        trigger: str | None = None,
        status: ScanStatus | None = None,
    ) -> ScanResult | None: ...


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


class CronStatus(BaseModel):
    now: datetime
    grace_seconds: int
    running_scan_id: int | None
    late: bool
    schedules: list[ScheduleHealth]


def schedule_health(
    schedule: Schedule, history: ScanHistory, now: datetime, grace: timedelta
) -> ScheduleHealth:
    period = schedule.period(now)
    last = history.last_scan(trigger=schedule.name)
    success = history.last_scan(trigger=schedule.name, status="completed")
    success_at = None if success is None else (success.finished_at or success.started_at)
    late_at = None if success_at is None else success_at + period + grace
    return ScheduleHealth(
        name=schedule.name,
        expression=schedule.expression,
        scope=schedule.scope,
        period_seconds=int(period.total_seconds()),
        next_run=schedule.next_fire(now),
        last_run=None if last is None else last.started_at,
        last_outcome=None if last is None else last.status,
        last_scan_id=None if last is None else last.id,
        last_success=success_at,
        late_at=late_at,
        late=late_at is None or now > late_at,
    )


def cron_status(
    schedules: list[Schedule], history: ScanHistory, now: datetime, grace: timedelta = DEFAULT_GRACE
) -> CronStatus:
    healths = [schedule_health(schedule, history, now, grace) for schedule in schedules]
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
