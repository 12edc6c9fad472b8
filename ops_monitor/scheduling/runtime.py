"""Assemble a scheduler from configuration, and run it inside `ops-monitor serve`.

Both `ops-monitor serve` (through `scheduler_lifespan`) and `ops-monitor scheduler` build the loop
here, so the two ways of running it cannot drift apart.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import datetime, timedelta
from typing import Protocol

import click
from prometheus_client import CollectorRegistry
from sqlalchemy import Engine
from sqlalchemy.pool import StaticPool

from ops_monitor.scheduler import (
    DEFAULT_STARTING_DEADLINE,
    Clock,
    ScanService,
    Scheduler,
    Sleeper,
    utc_now,
)
from ops_monitor.scheduling.locks import run_lock_for
from ops_monitor.scheduling.metrics import SchedulerMetrics
from ops_monitor.scheduling.schedules import Schedule, ScheduleError, parse_schedules
from ops_monitor.scheduling.status import DEFAULT_GRACE, CronView

_STOP_TIMEOUT_SECONDS = 30.0


class StoreLike(Protocol):
    """The part of `ops_monitor.store.Store` the scheduler needs: its engine, to lock on the
    same database, and `close()`, to close every connection after each run."""

    @property
    def engine(self) -> Engine: ...

    def close(self) -> None: ...


class SchedulerSettings(Protocol):
    """What the scheduler reads from `ops_monitor.config.Settings`."""

    @property
    def schedules(self) -> Mapping[str, str | Mapping[str, str]]: ...


def _hours(settings: object, name: str, default: timedelta) -> timedelta:
    value = getattr(settings, name, None)
    return default if value is None else timedelta(hours=float(value))


def starting_deadline(settings: object) -> timedelta:
    """How late a missed tick may still start (`starting_deadline_hours`, 24 by default)."""
    return _hours(settings, "starting_deadline_hours", DEFAULT_STARTING_DEADLINE)


def late_grace(settings: object) -> timedelta:
    """How long past its period a schedule may go without success before it is late."""
    return _hours(settings, "cron_grace_hours", DEFAULT_GRACE)


def schedules_from(settings: SchedulerSettings) -> list[Schedule]:
    """The configured schedules; a bad one is a usage error naming the schedule and field."""
    try:
        return parse_schedules(settings.schedules)
    except ScheduleError as error:
        raise click.UsageError(str(error)) from None


def scheduler_enabled(settings: object) -> bool:
    return bool(getattr(settings, "scheduler_enabled", True))


def configure_logging() -> None:
    """Send the scheduler's JSON lines to stderr, one per line, when nothing else handles them."""
    log = logging.getLogger("ops_monitor.scheduler")
    if not log.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        log.addHandler(handler)
    log.setLevel(logging.INFO)


def build_scheduler(
    service: ScanService,
    store: StoreLike,
    schedules: list[Schedule],
    *,
    registry: CollectorRegistry,
    settings: object = None,
    clock: Clock = utc_now,
    sleep: Sleeper | None = None,
    lock_namespace: str | None = None,
) -> Scheduler:
    """A scheduler on `service`, locking on the store's database and closing its connections."""
    engine = store.engine
    return Scheduler(
        service,
        schedules,
        metrics=SchedulerMetrics.on(registry),
        lock=run_lock_for(engine, lock_namespace),
        clock=clock,
        sleep=sleep,
        starting_deadline=starting_deadline(settings),
        # A static pool's one connection *is* an in-memory database: closing it would erase it.
        after_run=None if isinstance(engine.pool, StaticPool) else store.close,
    )


class SchedulerThread:
    """The loop on a daemon thread, stopped and joined on request."""

    def __init__(self, scheduler: Scheduler) -> None:
        self.scheduler = scheduler
        self.thread = threading.Thread(target=scheduler.run, name="ops-monitor-scheduler")
        self.thread.daemon = True

    def start(self) -> None:
        self.thread.start()

    def stop(self, timeout: float = _STOP_TIMEOUT_SECONDS) -> None:
        self.scheduler.stop()
        self.thread.join(timeout)


def scheduler_lifespan(
    settings: SchedulerSettings,
    *,
    clock: Callable[[], datetime] = utc_now,
) -> Callable[[object], AbstractAsyncContextManager[None]]:
    """A lifespan hook for `create_app(..., lifespans=[...])`: publishes the cron view for
    `GET /api/ops/cron` and runs the loop on the app's own service (so scans it starts are
    broadcast, and a manual scan and a tick never overlap) for as long as the app lives."""
    schedules = schedules_from(settings)

    @asynccontextmanager
    async def lifespan(app: object) -> AsyncIterator[None]:
        state = app.state  # type: ignore[attr-defined]
        state.cron = CronView(schedules, late_grace(settings), clock)
        if not scheduler_enabled(settings) or not schedules:
            yield
            return
        configure_logging()
        service = state.service
        runner = SchedulerThread(
            build_scheduler(
                service,
                service.store,
                schedules,
                registry=state.registry,
                settings=settings,
                clock=clock,
            )
        )
        runner.start()
        try:
            yield
        finally:
            await asyncio.to_thread(runner.stop)

    return lifespan
