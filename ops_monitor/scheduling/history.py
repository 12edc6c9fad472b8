"""A schedule's last success and when a scheduler running it started: the one definition that
the catch-up and the cron status both read, so they cannot disagree about a schedule.

What counts as a success for a schedule: the latest completed, unfiltered scan that covers what
the schedule's own run would have read, whatever started it (the schedule, another schedule,
`ops-monitor scan`, `POST /api/ops/scan`):

* a full schedule: a full scan;
* an incremental schedule: an incremental or a full scan (a full scan re-reads everything an
  incremental one would, and takes its tick when both fire in the same minute).

So a manual full scan both spares the catch-up and keeps `full` on time. The Prometheus gauge
`ops_monitor_scheduler_last_success_timestamp_seconds` still counts the scheduler's own runs only:
it is the signal that the scheduler process itself is alive.

When a scheduler starts it records the time against each of its schedules (row
`scheduler.started:...` of `ops_state`): ticks before that were never anybody's to run, so a fresh
deployment is not late. It is written at start, and at the next tick when the database was down.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from ops_monitor.models import ScanResult, Scope
from ops_monitor.scheduling.schedules import Schedule
from ops_monitor.store import Store
from ops_monitor.store import scans as scan_rows

COVERED_BY: dict[Scope, tuple[Scope, ...]] = {
    "full": ("full",),
    "incremental": ("incremental", "full"),
}


class ScheduleHistory:
    """Reads and writes the above in the monitor's database, one short connection per call.
    `ready` is called first each time: a scheduler that started while its database was down
    migrates it there, once the database is back."""

    def __init__(self, store: Store, ready: Callable[[], object] | None = None) -> None:
        self.store = store
        self.ready = ready

    def last_success(self, schedule: Schedule) -> ScanResult | None:
        self._ensure_ready()
        with self.store.read() as connection:
            return scan_rows.last_success(connection, COVERED_BY[schedule.scope])

    def started_at(self) -> dict[str, datetime]:
        """Schedule name -> when a scheduler running it last started."""
        self._ensure_ready()
        with self.store.read() as connection:
            return scan_rows.scheduler_starts(connection)

    def record_start(self, schedules: Iterable[Schedule], at: datetime) -> None:
        self._ensure_ready()
        with self.store.write() as connection:
            scan_rows.record_scheduler_start(
                connection, [schedule.name for schedule in schedules], at
            )

    def _ensure_ready(self) -> None:
        if self.ready is not None:
            self.ready()
