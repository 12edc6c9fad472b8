"""The scan scheduler: fires configured cron schedules in UTC and runs one scan per tick.

Semantics (the cron monitoring runbook states them for operators):
- no overlap: a tick that finds a scan running (ours, a manual one, another replica's) is skipped
  and counted, never queued;
- one scan per minute: when several schedules fire together only the full scan runs;
- missed ticks are coalesced: at start (and after the loop itself was held up, e.g. a suspended
  host) one catch-up full scan runs if the last successful full scan is older than the full
  schedule's period and the missed firing is within the starting deadline ("successful full
  scan" as `scheduling/history.py` defines it for the cron status too: a manual one counts);
- the start is recorded in the database, so that cron status counts due ticks from then; when
  the database is down at start, recording it and the catch-up are retried at the next tick;
- a failing scan is logged with its id and counted, and the loop goes on;
- replicas sharing a database run each tick once (see `scheduling/locks.py`).

Everything that touches time goes through the injected clock and sleeper, so tests simulate a week
in milliseconds; everything the scheduler does is visible as JSON log lines and metrics.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from ops_monitor.models import ScanInProgressError, ScanResult, Scope
from ops_monitor.ports import ScanService
from ops_monitor.scheduling.locks import RunLock, ThreadRunLock
from ops_monitor.scheduling.metrics import SchedulerMetrics
from ops_monitor.scheduling.schedules import Schedule
from ops_monitor.store.database import driver_reason

logger = logging.getLogger("ops_monitor.scheduler")

Clock = Callable[[], datetime]
"""Returns the current time, timezone-aware."""
Sleeper = Callable[[float], object]
"""Waits about that many seconds (it may return early; the loop checks the clock again)."""

DEFAULT_STARTING_DEADLINE = timedelta(hours=24)


class ScheduleRecords(Protocol):
    """What the scheduler reads and writes about its schedules (`ScheduleHistory`)."""

    def last_success(self, schedule: Schedule) -> ScanResult | None: ...

    def record_start(self, schedules: Iterable[Schedule], at: datetime) -> None: ...


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class RunReport:
    """What one scheduled run did; it becomes the JSON log line and the metrics."""

    schedule: str
    scope: Scope
    tick: datetime
    catch_up: bool
    started_at: datetime
    finished_at: datetime | None = None
    outcome: str = "running"
    scan_id: int | None = None
    logs_processed: int = 0
    issues_found: int = 0
    issues_filed: int = 0
    issues_reopened: int = 0
    error: str | None = None

    @property
    def duration_seconds(self) -> float:
        end = self.finished_at or self.started_at
        return (end - self.started_at).total_seconds()

    def log_fields(self, event: str) -> dict[str, Any]:
        return {
            "event": event,
            "schedule": self.schedule,
            "scope": self.scope,
            "tick": _iso(self.tick),
            "catch_up": self.catch_up,
            "scan_id": self.scan_id,
            "started_at": _iso(self.started_at),
            "finished_at": _iso(self.finished_at),
            "duration_seconds": round(self.duration_seconds, 3),
            "logs_processed": self.logs_processed,
            "issues_found": self.issues_found,
            "issues_filed": self.issues_filed,
            "issues_reopened": self.issues_reopened,
            "outcome": self.outcome,
            "error": self.error,
        }


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _log(fields: dict[str, Any], level: int = logging.INFO) -> None:
    logger.log(level, json.dumps(fields, sort_keys=False))


def _describe(error: BaseException) -> str:
    """`Type: reason` on one line: a database error's message spans several lines and ends in
    a link to SQLAlchemy's documentation; the driver's own reason is what an operator needs."""
    return f"{type(error).__name__}: {driver_reason(error)}"


def _log_failure(event: str, error: Exception) -> None:
    _log({"event": event, "error": _describe(error)}, logging.ERROR)


class Scheduler:
    """Runs scans on cron schedules against one service. `run()` blocks; `stop()` ends it."""

    def __init__(
        self,
        service: ScanService,
        schedules: list[Schedule],
        *,
        metrics: SchedulerMetrics,
        history: ScheduleRecords,
        lock: RunLock | None = None,
        clock: Clock = utc_now,
        sleep: Sleeper | None = None,
        starting_deadline: timedelta = DEFAULT_STARTING_DEADLINE,
        catch_up: bool = True,
        after_run: Callable[[], None] | None = None,
    ) -> None:
        self.service = service
        self.schedules = sorted(schedules, key=lambda schedule: schedule.priority)
        self.metrics = metrics
        self.history = history
        self.lock: RunLock = lock or ThreadRunLock()
        self.clock = clock
        self._stopping = threading.Event()
        self.sleep: Sleeper = sleep or self._stopping.wait
        self.starting_deadline = starting_deadline
        self.catch_up_enabled = catch_up
        self.after_run = after_run
        self._cursor = clock()  # ticks after this moment are still to be handled
        self._started_at = self._cursor
        self._start_recorded = False
        self._start_pending = False  # recording the start or the catch-up failed: retry at a tick

    # ------------------------------------------------------------ the loop

    def stop(self) -> None:
        self._stopping.set()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def begin(self) -> None:
        """Start counting ticks from now, after recording the start and one catch-up full scan
        if one is due."""
        now = self.clock()
        self._cursor = self._started_at = now
        self._start_recorded = False
        self._start_pending = True
        _log({"event": "scheduler_started", "now": _iso(now), "schedules": self._describe()})
        try:
            self._finish_start(now)
        except Exception as error:  # the database may be down at start; the ticks still come
            _log_failure("tick_failed", error)

    def _finish_start(self, now: datetime) -> bool:
        """Record when we started, then catch up; whether a catch-up scan ran. Raises while the
        database is down, leaving both to the next tick."""
        if not self._start_recorded:
            self.history.record_start(self.schedules, self._started_at)
            self._start_recorded = True
        ran = self.catch_up(now)
        self._start_pending = False
        return ran

    def run(self, until: datetime | None = None) -> None:
        """Catch up if needed, then fire ticks until `stop()` (or the clock passes `until`)."""
        self.begin()
        while not self.stopping:
            fire = self.next_fire(self._cursor)
            if fire is None or (until is not None and fire > until):
                if until is None:
                    self._stopping.wait()
                break
            if not self._sleep_until(fire):
                break
            try:
                self.handle_due(self.clock())
            except Exception as error:  # never let one tick end the loop
                _log_failure("tick_failed", error)
        _log({"event": "scheduler_stopped", "now": _iso(self.clock())})

    def next_fire(self, after: datetime) -> datetime | None:
        """The next tick of any schedule strictly after `after`."""
        fires = [schedule.next_fire(after) for schedule in self.schedules]
        return min(fires, default=None)

    def _sleep_until(self, moment: datetime) -> bool:
        while not self.stopping:
            remaining = (moment - self.clock()).total_seconds()
            if remaining <= 0:
                return True
            self.sleep(remaining)
        return False

    def handle_due(self, now: datetime) -> None:
        """Handle every tick in (cursor, now]: run the latest, count the earlier ones as missed."""
        due = {schedule: schedule.fires_between(self._cursor, now) for schedule in self.schedules}
        self._cursor = now
        fires = [fire for fires in due.values() for fire in fires]
        if not fires:
            return
        latest = max(fires)
        in_time = now - latest <= self.starting_deadline
        missed = False
        for schedule, schedule_fires in due.items():
            for fire in schedule_fires:
                if fire < latest or not in_time:
                    self._skip(schedule, fire, "missed")
                    missed = True
        at_latest = [schedule for schedule, fires in due.items() if latest in fires]
        if self._start_pending:
            caught_up = self._finish_start(now)
        else:
            caught_up = missed and self.catch_up(now)
        if caught_up:
            for schedule in at_latest if in_time else []:
                self._skip(schedule, latest, "superseded")
            return
        if in_time:
            self.fire_tick(latest, at_latest)

    def fire_tick(self, tick: datetime, schedules: list[Schedule]) -> RunReport | None:
        """Run the highest-priority schedule due at `tick`; the others are superseded by it."""
        winner, *others = sorted(schedules, key=lambda schedule: schedule.priority)
        for other in others:
            self._skip(other, tick, "superseded")

        def not_yet_run() -> bool:
            last = self.service.last_scan(trigger=winner.name)
            return last is None or last.started_at < tick

        report = self._run(winner, tick, catch_up=False, still_due=not_yet_run)
        self._skip_overlapped(tick)
        return report

    # ------------------------------------------------------------ catch-up

    def catch_up(self, now: datetime) -> bool:
        """One coalesced full scan if the last successful one is older than the full period."""
        full = next((schedule for schedule in self.schedules if schedule.scope == "full"), None)
        if full is None or not self.catch_up_enabled:
            return False
        missed = full.previous_fire(now)
        if now - missed > self.starting_deadline:
            return False
        period = full.period(now)

        def stale() -> bool:
            last = self.service.last_scan(trigger=full.name)
            if last is not None and last.started_at >= missed:
                return False  # the missed tick did run (here or on another replica)
            success = self.history.last_success(full)
            return success is None or now - success.started_at > period

        if not stale():
            return False
        report = self._run(full, missed, catch_up=True, still_due=stale)
        self._skip_overlapped(now)
        return report is not None

    # ------------------------------------------------------------ one run

    def _run(
        self, schedule: Schedule, tick: datetime, *, catch_up: bool, still_due: Callable[[], bool]
    ) -> RunReport | None:
        try:
            return self._run_locked(schedule, tick, catch_up=catch_up, still_due=still_due)
        except Exception as error:  # the database or the lock failed before the scan began
            report = RunReport(schedule.name, schedule.scope, tick, catch_up, self.clock())
            report.outcome = "failed"
            report.error = _describe(error)
            report.finished_at = report.started_at
            self._account(report)
            return report
        finally:
            self._release_connections()

    def _run_locked(
        self, schedule: Schedule, tick: datetime, *, catch_up: bool, still_due: Callable[[], bool]
    ) -> RunReport | None:
        running = self.service.running_scan_id()
        if running is not None:
            self._skip(schedule, tick, "busy", running_scan_id=running)
            return None
        with self.lock.hold() as held:
            if not held:
                self._skip(schedule, tick, "claimed")
                return None
            if not still_due():
                self._skip(schedule, tick, "claimed")
                return None
            return self._scan(schedule, tick, catch_up)

    def _scan(self, schedule: Schedule, tick: datetime, catch_up: bool) -> RunReport | None:
        report = RunReport(
            schedule=schedule.name,
            scope=schedule.scope,
            tick=tick,
            catch_up=catch_up,
            started_at=self.clock(),
        )
        _log(report.log_fields("scan_started"))
        try:
            result = self.service.run_scan(schedule.scope, trigger=schedule.name)
        except ScanInProgressError as busy:
            self._skip(schedule, tick, "busy", running_scan_id=busy.running_scan_id)
            return None
        except Exception as error:  # isolate: a failed scan never stops the loop
            report.outcome = "failed"
            report.error = _describe(error)
            report.scan_id = self._failed_scan_id(error, schedule, report.started_at)
            logger.debug("scheduled scan failed", exc_info=True)
        else:
            self._record_result(report, result)
        report.finished_at = self.clock()
        self._account(report)
        return report

    def _record_result(self, report: RunReport, result: ScanResult) -> None:
        report.scan_id = result.id
        report.outcome = "completed" if result.status == "completed" else "failed"
        report.error = result.error
        report.logs_processed = result.logs_processed
        report.issues_found = result.issues_found
        report.issues_filed = result.issues_filed
        report.issues_reopened = result.issues_reopened

    def _failed_scan_id(self, error: Exception, schedule: Schedule, since: datetime) -> int | None:
        """The id of the scan record the failure left behind, if the service wrote one."""
        scan_id = getattr(error, "scan_id", None)
        if isinstance(scan_id, int):
            return scan_id
        try:
            last = self.service.last_scan(trigger=schedule.name)
        except Exception:  # the database itself may be what failed
            return None
        return last.id if last is not None and last.started_at >= since else None

    def _account(self, report: RunReport) -> None:
        level = logging.INFO if report.outcome == "completed" else logging.ERROR
        _log(report.log_fields("scan_finished"), level)
        self.metrics.runs.labels(report.schedule, report.outcome).inc()
        self.metrics.duration.labels(report.schedule).observe(report.duration_seconds)
        if report.outcome == "completed" and report.finished_at is not None:
            self.metrics.last_success.labels(report.schedule).set(report.finished_at.timestamp())

    def _release_connections(self) -> None:
        if self.after_run is None:
            return
        try:
            self.after_run()
        except Exception as error:
            _log_failure("cleanup_failed", error)

    # ------------------------------------------------------------ skips

    def _skip_overlapped(self, tick: datetime) -> None:
        """Ticks that came and went while a run was in progress are skipped, not queued."""
        now = self.clock()
        for schedule in self.schedules:
            for fire in schedule.fires_between(tick, now):
                self._skip(schedule, fire, "overlap")
        self._cursor = max(self._cursor, now)

    def _skip(self, schedule: Schedule, tick: datetime, reason: str, **extra: Any) -> None:
        self.metrics.skipped.labels(schedule.name, reason).inc()
        _log(
            {
                "event": "tick_skipped",
                "schedule": schedule.name,
                "scope": schedule.scope,
                "tick": _iso(tick),
                "reason": reason,
                "outcome": "skipped",
                **extra,
            },
            logging.WARNING if reason in ("overlap", "missed", "busy") else logging.INFO,
        )

    def _describe(self) -> dict[str, str]:
        return {schedule.name: schedule.expression for schedule in self.schedules}
