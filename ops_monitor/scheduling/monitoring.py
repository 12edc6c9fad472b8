"""The monitor's cron monitors at run time: declared from configuration, evaluated on a thread,
and the monitor's own schedules checking in as `ops-monitor-<schedule>` (`ops-monitor-full`,
`ops-monitor-incremental`), so a dead scheduler shows up as a missed run like any other job's.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.pool import StaticPool

from ops_monitor.models import ScanFilters, ScanInProgressError, ScanResult, ScanStatus, Scope
from ops_monitor.monitors.config import MonitorConfig, parse_monitor_config
from ops_monitor.monitors.evaluator import Evaluator, EvaluatorThread
from ops_monitor.monitors.metrics import MonitorMetrics
from ops_monitor.monitors.schedule import CronSchedule
from ops_monitor.monitors.service import CronMonitors
from ops_monitor.monitors.views import StateChange
from ops_monitor.ports import ScanService
from ops_monitor.scheduling.schedules import Schedule, parse_schedules
from ops_monitor.store import Store

SELF_PREFIX = "ops-monitor-"
SELF_MARGIN = timedelta(minutes=10)
SELF_MAX_RUNTIME = timedelta(hours=2)

log = logging.getLogger("ops_monitor.monitors")


def utc_now() -> datetime:
    return datetime.now(UTC)


def self_slug(schedule: Schedule) -> str:
    return f"{SELF_PREFIX}{schedule.name}".lower()


def self_monitors(schedules: Iterable[Schedule]) -> dict[str, MonitorConfig]:
    return {
        self_slug(schedule): MonitorConfig(
            schedule=CronSchedule(schedule.expression),
            checkin_margin=SELF_MARGIN,
            max_runtime=SELF_MAX_RUNTIME,
        )
        for schedule in schedules
    }


def configured_monitors(entries: Iterable[Mapping[str, Any]]) -> dict[str, MonitorConfig]:
    """The `monitors:` of the settings (validated when they loaded)."""
    return {
        str(entry["slug"]): parse_monitor_config(
            {key: value for key, value in entry.items() if key != "slug"}, "monitor"
        )
        for entry in entries
    }


def declarer(
    monitors: CronMonitors, settings: object, schedules: Iterable[Schedule]
) -> Callable[[], None]:
    """Declare the configured monitors and the scheduler's own (retried while the database
    is down)."""
    own = self_monitors(schedules)
    configured = configured_monitors(getattr(settings, "monitors", ()))

    def declare() -> None:
        monitors.declare_all(own, "self")
        monitors.declare_all(configured, "config")

    return declare


def evaluator_for(
    monitors: CronMonitors, store: Store, prepare: Callable[[], None] | None
) -> Evaluator:
    # A static pool's one connection *is* an in-memory database: closing it would erase it.
    keep = isinstance(store.engine.pool, StaticPool)
    return Evaluator(monitors, prepare=prepare, after_run=None if keep else store.close)


class CheckingInService:
    """A `ScanService` whose scheduled scans check in: `in_progress` when the scan starts, `ok`
    or `error` when it ends. A check-in that fails is logged; it never fails the scan."""

    def __init__(
        self, service: ScanService, monitors: CronMonitors, schedules: Iterable[Schedule]
    ) -> None:
        self.service = service
        self.monitors = monitors
        self.slugs = {schedule.name: self_slug(schedule) for schedule in schedules}

    def __getattr__(self, name: str) -> Any:
        return getattr(self.service, name)

    def run_scan(
        self, scope: Scope, filters: ScanFilters | None = None, *, trigger: str = "manual"
    ) -> ScanResult:
        slug = self.slugs.get(trigger)
        if slug is None:
            return self.service.run_scan(scope, filters, trigger=trigger)
        run = self._check_in(slug, "in_progress", None)
        try:
            result = self.service.run_scan(scope, filters, trigger=trigger)
        except ScanInProgressError:
            self._check_in(slug, "ok", run)  # another scan is doing the work right now
            raise
        except Exception:
            self._check_in(slug, "error", run)
            raise
        self._check_in(slug, "ok" if result.status == "completed" else "error", run)
        return result

    def running_scan_id(self) -> int | None:
        return self.service.running_scan_id()

    def last_scan(
        self,
        scope: Scope | None = None,
        trigger: str | None = None,
        status: ScanStatus | None = None,
    ) -> ScanResult | None:
        return self.service.last_scan(scope, trigger, status)

    def _check_in(self, slug: str, status: str, run: str | None) -> str | None:
        try:
            return self.monitors.check_in(slug, status, checkin_id=run)
        except Exception as error:
            log.error(
                json.dumps(
                    {
                        "event": "self_checkin_failed",
                        "monitor": slug,
                        "status": status,
                        "error": f"{type(error).__name__}: {' '.join(str(error).split())}",
                    }
                )
            )
            return None


def monitors_lifespan(
    settings: object, *, clock: Callable[[], datetime] = utc_now
) -> Callable[[object], AbstractAsyncContextManager[None]]:
    """A lifespan hook for `create_app(..., lifespans=[...])`, entered before the scheduler's:
    publishes `CronMonitors` on the app's store as `state.monitors` (the monitors routes use it),
    declares the configured monitors and, when this process runs the schedules, its own, and
    evaluates them all on a thread for as long as the app lives. State changes are broadcast."""

    @asynccontextmanager
    async def lifespan(app: object) -> AsyncIterator[None]:
        state = app.state  # type: ignore[attr-defined]
        store: Store = state.service.store
        broadcaster = state.broadcaster

        def announce(change: StateChange) -> None:
            broadcaster.publish_event(
                f'{{"type":"monitor_state_changed","change":{change.model_dump_json()}}}'
            )

        monitors = CronMonitors(
            store, clock=clock, on_change=announce, metrics=MonitorMetrics.on(state.registry)
        )
        state.monitors = monitors
        runs_schedules = bool(getattr(settings, "scheduler_enabled", True))
        own = parse_schedules(getattr(settings, "schedules", None)) if runs_schedules else []
        prepare = declarer(monitors, settings, own)
        if not runs_schedules:
            await asyncio.to_thread(_try, prepare)
            yield
            return
        runner = EvaluatorThread(evaluator_for(monitors, store, prepare))
        runner.start()
        try:
            yield
        finally:
            await asyncio.to_thread(runner.stop)

    return lifespan


def _try(action: Callable[[], None]) -> None:
    try:
        action()
    except Exception as error:  # the database may be down; the monitors routes say so later
        log.error(json.dumps({"event": "monitor_declare_failed", "error": str(error)}))
