"""Assemble a scheduler from configuration, and run it inside `ops-monitor serve`.

Both `ops-monitor serve` (through `scheduler_lifespan`) and `ops-monitor scheduler` build the loop
here, so the two ways of running it cannot drift apart.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import threading
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, TextIO

import click
from prometheus_client import CollectorRegistry
from sqlalchemy.pool import StaticPool

from ops_monitor.ports import ScanService
from ops_monitor.scheduling.history import ScheduleHistory
from ops_monitor.scheduling.locks import run_lock_for
from ops_monitor.scheduling.metrics import SchedulerMetrics
from ops_monitor.scheduling.monitoring import CheckingInService
from ops_monitor.scheduling.scheduler import (
    DEFAULT_STARTING_DEADLINE,
    Clock,
    Scheduler,
    ScheduleRecords,
    Sleeper,
    utc_now,
)
from ops_monitor.scheduling.schedules import Schedule, ScheduleError, parse_schedules
from ops_monitor.scheduling.status import DEFAULT_GRACE, CronView
from ops_monitor.store import Store

_STOP_TIMEOUT_SECONDS = 30.0
_JSON_HANDLER = "ops-monitor-json"


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


class JsonLineFormatter(logging.Formatter):
    """One JSON object per line, whoever logged it: the scheduler's lines are JSON already and
    pass unchanged; any other line (the service's "scan 4 failed: ...", uvicorn's) becomes
    `{"event": "log", "level", "logger", "message"}` with any exception in `error` (and its
    traceback in `traceback`), so a multi-line database error can never break a log reader's
    one-object-per-line parse."""

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        if message.startswith("{"):
            try:
                parsed = json.loads(message)
            except ValueError:
                parsed = None
            if isinstance(parsed, dict):
                return json.dumps(parsed)
        fields: dict[str, Any] = {
            "event": "log",
            "time": datetime.fromtimestamp(record.created, UTC).isoformat().replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": message,
        }
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            fields["error"] = " ".join(f"{type(error).__name__}: {error}".split())
            if record.exc_info[2] is not None:  # the whole story, still on one line
                fields["traceback"] = self.formatException(record.exc_info)
        return json.dumps(fields)


class _StderrHandler(logging.StreamHandler[TextIO]):
    """Writes to whatever `sys.stderr` is at the time (tests swap it), never a stale stream."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)
        self.name = _JSON_HANDLER

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


def json_handler() -> logging.Handler:
    handler = _StderrHandler()
    handler.setFormatter(JsonLineFormatter())
    return handler


def configure_logging() -> None:
    """Send every `ops_monitor` log line to stderr as one JSON object per line: the scheduler's
    run lines, and the service's own warnings and errors, which would otherwise reach stderr as
    plain (and for database errors multi-line) text through logging's last-resort handler."""
    log = logging.getLogger("ops_monitor")
    if not any(handler.name == _JSON_HANDLER for handler in log.handlers):
        log.addHandler(json_handler())
    log.setLevel(logging.INFO)


def uvicorn_log_config() -> dict[str, Any]:
    """uvicorn's loggers with the same JSON lines, so `serve` writes nothing but JSON."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "handlers": {"json": {"()": json_handler}},
        "loggers": {
            name: {"handlers": ["json"], "level": "INFO", "propagate": False}
            for name in ("uvicorn", "uvicorn.error", "uvicorn.access")
        },
    }


def build_scheduler(
    service: ScanService,
    store: Store,
    schedules: list[Schedule],
    *,
    registry: CollectorRegistry,
    settings: object = None,
    clock: Clock = utc_now,
    sleep: Sleeper | None = None,
    lock_namespace: str | None = None,
    history: ScheduleRecords | None = None,
) -> Scheduler:
    """A scheduler on `service`, locking on the store's database and closing its connections."""
    engine = store.engine
    return Scheduler(
        service,
        schedules,
        metrics=SchedulerMetrics.on(registry),
        history=history or ScheduleHistory(store),
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
        monitors = getattr(state, "monitors", None)
        if monitors is not None:  # the scheduled scans check in as ops-monitor-<schedule>
            service = CheckingInService(service, monitors, schedules)
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
