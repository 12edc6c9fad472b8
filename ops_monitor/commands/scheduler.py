"""`ops-monitor scheduler`: the scan scheduler alone, for when the API runs elsewhere.

It shares the database (and its run lock) with every other monitor process, so running it next
to `ops-monitor serve` replicas never doubles a tick. SIGTERM and Ctrl-C stop it between scans
(a scan in progress is finished first).

A database server that is down at start does not stop it: a daemon whose job is to be boringly
reliable should not depend on boot order or on a database restart. It logs one JSON line
(`database_unavailable`), keeps its schedule, and each tick tries again (a failed tick is logged
and counted like any failed run, and cron status turns late, so the outage is visible). What can
never fix itself stops it at once with one line and exit 2: a bad URL, a missing directory, an
in-memory database, a SQLite file that cannot be opened (a file is never "down").
"""

from __future__ import annotations

import json
import logging
import signal
from datetime import UTC, datetime
from types import FrameType
from typing import TYPE_CHECKING

import click

from ops_monitor.commands.local import db_option, load_settings
from ops_monitor.scheduling.runtime import schedules_from
from ops_monitor.scheduling.schedules import Schedule

if TYPE_CHECKING:
    from ops_monitor.config import Settings
    from ops_monitor.models import ScanFilters, ScanResult, ScanStatus, Scope
    from ops_monitor.service import OpsMonitorService
    from ops_monitor.store import Store

EXAMPLES = """\b
Examples:
  ops-monitor scheduler
  ops-monitor scheduler --db postgresql+psycopg://ops@db/ops
  OPS_MONITOR_SCHEDULES='{"full": "0 3 * * *"}' ops-monitor scheduler --next 5
"""


@click.command("scheduler", epilog=EXAMPLES)
@db_option
@click.option(
    "--next",
    "preview",
    type=click.IntRange(min=1),
    metavar="N",
    help="Print the next N ticks (and which scan each runs) and exit.",
)
def scheduler(db_url: str | None, preview: int | None) -> None:
    """Run the configured cron schedules (UTC) until stopped, one scan per tick, and evaluate
    the cron monitors every 30 seconds.

    Catches up with one full scan at start when the last successful one is older than the full
    schedule's period. Every run is logged to stderr as one JSON line.
    """
    settings = load_settings(db_url)
    schedules = schedules_from(settings)
    if not schedules:
        raise click.UsageError("no schedules are configured: nothing to run")
    if preview is not None:
        _print_preview(schedules, preview)
        return
    from ops_monitor.metrics import REGISTRY
    from ops_monitor.scheduling.runtime import build_scheduler, configure_logging

    configure_logging()
    from ops_monitor.monitors.evaluator import EvaluatorThread
    from ops_monitor.monitors.metrics import MonitorMetrics
    from ops_monitor.monitors.service import CronMonitors
    from ops_monitor.scheduling.history import ScheduleHistory
    from ops_monitor.scheduling.monitoring import CheckingInService, declarer, evaluator_for

    store = _open_or_wait(settings)
    try:
        service = DeferredService(store, settings)
        monitors = CronMonitors(store, metrics=MonitorMetrics.on(REGISTRY))
        loop = build_scheduler(
            CheckingInService(service, monitors, schedules),
            store,
            schedules,
            registry=REGISTRY,
            settings=settings,
            history=ScheduleHistory(store, ready=service.ready),
        )
        evaluator = EvaluatorThread(
            evaluator_for(monitors, store, declarer(monitors, settings, schedules))
        )

        def stop(signum: int, frame: FrameType | None) -> None:
            loop.stop()
            evaluator.evaluator.stop()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        evaluator.start()
        try:
            loop.run()
        finally:
            evaluator.stop()
    finally:
        store.close()


def _open_or_wait(settings: Settings) -> Store:
    """The store; migrated now if its server is up, else at the first tick that reaches it."""
    from sqlalchemy.exc import DBAPIError

    from ops_monitor.commands.local import DatabaseProblem, refuse_memory
    from ops_monitor.store import Store
    from ops_monitor.store.database import DatabaseURLError, driver_reason

    refuse_memory(settings)
    try:
        store = Store(settings.db_url)
    except DatabaseURLError as error:
        raise DatabaseProblem(str(error)) from error
    try:
        store.migrate()
    except DBAPIError as error:
        store.close()
        if store.dialect == "sqlite":
            raise DatabaseProblem(
                f"database {store.public_url} cannot be opened: {driver_reason(error)}"
            ) from error
        logging.getLogger("ops_monitor.scheduler").error(
            json.dumps(
                {
                    "event": "database_unavailable",
                    "db": store.public_url,
                    "error": driver_reason(error),
                    "retry": "at every tick",
                }
            )
        )
    return store


class DeferredService:
    """The service, built on first use and rebuilt until that works: while the database server
    is down every call raises, which the scheduler logs as a failed tick before trying again."""

    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        self._service: OpsMonitorService | None = None

    def ready(self) -> OpsMonitorService:
        if self._service is None:
            from ops_monitor.service import OpsMonitorService

            self._service = OpsMonitorService.from_settings(self.store, self.settings)
        return self._service

    def run_scan(
        self, scope: Scope, filters: ScanFilters | None = None, *, trigger: str = "manual"
    ) -> ScanResult:
        return self.ready().run_scan(scope, filters, trigger=trigger)

    def running_scan_id(self) -> int | None:
        return self.ready().running_scan_id()

    def last_scan(
        self,
        scope: Scope | None = None,
        trigger: str | None = None,
        status: ScanStatus | None = None,
    ) -> ScanResult | None:
        return self.ready().last_scan(scope, trigger, status)


def _print_preview(schedules: list[Schedule], count: int) -> None:
    moment = datetime.now(UTC)
    for _ in range(count):
        fires = {schedule: schedule.next_fire(moment) for schedule in schedules}
        moment = min(fires.values())
        due = sorted(
            (schedule for schedule, fire in fires.items() if fire == moment),
            key=lambda schedule: schedule.priority,
        )
        winner, *others = due
        note = f" (supersedes {', '.join(other.name for other in others)})" if others else ""
        click.echo(f"{moment:%Y-%m-%d %H:%M} UTC  {winner.name}: {winner.scope} scan{note}")
