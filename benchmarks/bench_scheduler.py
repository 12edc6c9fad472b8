"""How fast the scheduler simulates time, and what it costs on top of the scans it runs.

Runs the real scheduler on the real service over a simulated week (the default schedules: 50
scans) on an in-memory database and on a SQLite file, with a simulated clock, and prints the wall
time of each, the time spent inside the scans, and so the scheduler's own share per tick (the
history check, the run lock, closing connections, logging, metrics). Then times the pure cron
arithmetic over a simulated year.

    python benchmarks/bench_scheduler.py [--weeks 1]
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from figures import record
from prometheus_client import CollectorRegistry

from ops_monitor.models import ScanFilters, ScanResult
from ops_monitor.scheduling.runtime import build_scheduler
from ops_monitor.scheduling.schedules import parse_schedules
from ops_monitor.service import OpsMonitorService
from ops_monitor.store import Store

START = datetime(2026, 3, 2, 0, 0, 30, tzinfo=UTC)


class SimulatedClock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class TimedService(OpsMonitorService):
    """The real service, with the wall time spent inside its scans added up."""

    scan_seconds = 0.0

    def run_scan(
        self, scope: str, filters: ScanFilters | None = None, *, trigger: str = "manual"
    ) -> ScanResult:
        started = time.perf_counter()
        try:
            return super().run_scan(scope, filters, trigger=trigger)
        finally:
            self.scan_seconds += time.perf_counter() - started


def simulate(url: str, weeks: int) -> dict[str, object]:
    clock = SimulatedClock(START)
    store = Store(url)
    store.migrate()
    service = TimedService(store, clock=clock)
    scheduler = build_scheduler(
        service,
        store,
        parse_schedules(None),
        registry=CollectorRegistry(),
        clock=clock,
        sleep=clock.sleep,
    )
    started = time.perf_counter()
    scheduler.run(until=START + timedelta(weeks=weeks))
    wall = time.perf_counter() - started
    scans = len(service.recent_scans(limit=10_000))
    store.close()
    overhead = (wall - service.scan_seconds) / scans * 1000
    label = "in-memory" if url == "sqlite://" else "SQLite file"
    print(
        f"{label:12} {weeks} simulated week(s): {scans} scans in {wall:.3f} s wall "
        f"({service.scan_seconds:.3f} s inside scans; scheduler {overhead:.2f} ms per tick)"
    )
    return {
        "weeks": weeks,
        "scans": scans,
        "wall_seconds": round(wall, 3),
        "scan_seconds": round(service.scan_seconds, 3),
        "scheduler_ms_per_tick": round(overhead, 3),
    }


def cron_arithmetic() -> dict[str, object]:
    schedules = parse_schedules(None)
    started = time.perf_counter()
    ticks = sum(len(s.fires_between(START, START + timedelta(days=365))) for s in schedules)
    elapsed = time.perf_counter() - started
    print(f"cron arithmetic: {ticks} ticks of a year in {elapsed * 1000:.1f} ms")
    return {"ticks_in_a_year": ticks, "milliseconds": round(elapsed * 1000, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weeks", type=int, default=1)
    args = parser.parse_args()
    logging.getLogger("ops_monitor").setLevel(logging.CRITICAL)  # measure work, not printing
    in_memory = simulate("sqlite://", args.weeks)
    with tempfile.TemporaryDirectory() as directory:
        on_file = simulate(f"sqlite:///{Path(directory) / 'ops.db'}", args.weeks)
    record(
        "scheduler",
        {"in_memory": in_memory, "sqlite_file": on_file, "cron_arithmetic": cron_arithmetic()},
    )


if __name__ == "__main__":
    main()
