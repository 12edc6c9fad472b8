"""The scheduler harness: the real service on a real SQLite file (or a PostgreSQL schema), with
only the clock and the sleeper replaced, so a simulated week runs in a moment."""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
import uvicorn
from prometheus_client import CollectorRegistry

from ops_monitor.models import LogRecord, ScanResult
from ops_monitor.scheduling.runtime import build_scheduler
from ops_monitor.scheduling.scheduler import Scheduler
from ops_monitor.scheduling.schedules import parse_schedules
from ops_monitor.service import OpsMonitorService
from ops_monitor.store import Store

PG_SERVER = "host=127.0.0.1 port=5432 user=postgres dbname=test connect_timeout=3"
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


class FakeClock:
    """Simulated UTC time: `sleep` moves it forward instead of waiting."""

    def __init__(self, start: datetime) -> None:
        self._now = start
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self._now

    def sleep(self, seconds: float) -> None:
        self.advance(timedelta(seconds=seconds))

    def advance(self, delta: timedelta) -> None:
        with self._lock:
            self._now += delta

    def set(self, moment: datetime) -> None:
        with self._lock:
            self._now = moment


@dataclass
class Replica:
    """One monitor process as the scheduler sees it: a store, a service, a scheduler."""

    store: Store
    service: OpsMonitorService
    scheduler: Scheduler
    registry: CollectorRegistry
    broadcasts: list[ScanResult] = field(default_factory=list)

    def metric(self, name: str, **labels: str) -> float:
        value = self.registry.get_sample_value(name, labels)
        return 0.0 if value is None else value

    def runs(self, schedule: str, outcome: str = "completed") -> float:
        return self.metric("ops_monitor_scheduler_runs_total", schedule=schedule, outcome=outcome)

    def skips(self, schedule: str, reason: str) -> float:
        return self.metric(
            "ops_monitor_scheduler_skipped_ticks_total", schedule=schedule, reason=reason
        )


@dataclass
class Monitor:
    """A database shared by any number of replicas, all on one simulated clock."""

    url: str
    clock: FakeClock
    replicas: list[Replica] = field(default_factory=list)
    on_broadcast: Callable[[ScanResult], None] | None = None

    def replica(self, schedules: dict[str, Any] | None = None, **options: Any) -> Replica:
        store = Store(self.url)
        store.migrate()
        broadcasts: list[ScanResult] = []

        def broadcast(result: ScanResult) -> None:
            broadcasts.append(result)
            if self.on_broadcast is not None:
                self.on_broadcast(result)

        service = OpsMonitorService(store, on_scan_completed=broadcast, clock=self.clock)
        registry = CollectorRegistry()
        scheduler = build_scheduler(
            service,
            store,
            parse_schedules(schedules),
            registry=registry,
            clock=self.clock,
            sleep=self.clock.sleep,
            **options,
        )
        replica = Replica(store, service, scheduler, registry, broadcasts)
        self.replicas.append(replica)
        return replica

    def scans(self) -> list[ScanResult]:
        """Every scan in the database, oldest first."""
        probe = self.replicas[0].service if self.replicas else self.replica().service
        return sorted(probe.recent_scans(limit=500), key=lambda scan: scan.id)

    def push(self, count: int, *, level: str = "error", message: str = "upstream timeout") -> None:
        service = self.replicas[0].service if self.replicas else self.replica().service
        now = self.clock()
        service.ingest(
            LogRecord(
                timestamp=now - timedelta(seconds=i),
                source="checkout",
                level=level,
                message=f"{message} after {100 + i} ms",
            )
            for i in range(count)
        )

    def close(self) -> None:
        for replica in self.replicas:
            replica.store.close()


START = utc("2026-03-02T00:00:30")  # a Monday, just after midnight UTC


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def sqlite_monitor(tmp_path: Path, clock: FakeClock) -> Iterator[Monitor]:
    monitor = Monitor(f"sqlite:///{tmp_path / 'ops.db'}", clock)
    yield monitor
    monitor.close()


@pytest.fixture
def postgres_monitor(clock: FakeClock) -> Iterator[Monitor]:
    """A monitor on a fresh PostgreSQL schema, dropped afterwards."""
    try:
        admin = psycopg.connect(PG_SERVER, autocommit=True)
    except psycopg.OperationalError as error:  # pragma: no cover - only when truly unreachable
        pytest.skip(f"PostgreSQL on 127.0.0.1:5432 is unreachable: {error}")
    schema = f"sched_{uuid.uuid4().hex[:12]}"
    with admin:
        admin.execute(f'CREATE SCHEMA "{schema}"')
        monitor = Monitor(f"{PG_URL}?options=-csearch_path%3D{schema}", clock)
        try:
            yield monitor
        finally:
            monitor.close()
            admin.execute(f'DROP SCHEMA "{schema}" CASCADE')


@dataclass
class LogLines:
    """The scheduler's JSON log lines, parsed."""

    caplog: pytest.LogCaptureFixture

    def events(self, event: str | None = None) -> list[dict[str, Any]]:
        parsed = [
            json.loads(record.getMessage())
            for record in self.caplog.records
            if record.name == "ops_monitor.scheduler"
        ]
        return [line for line in parsed if event is None or line["event"] == event]


@pytest.fixture
def log_lines(caplog: pytest.LogCaptureFixture) -> LogLines:
    caplog.set_level(logging.INFO, logger="ops_monitor.scheduler")
    return LogLines(caplog)


@dataclass
class ThreadedServer:
    url: str


@contextmanager
def served(app: Any) -> Iterator[ThreadedServer]:
    """A real uvicorn server for `app` on 127.0.0.1 (an ephemeral port), in a thread."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    config = uvicorn.Config(app, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the server did not start")
        time.sleep(0.01)
    try:
        yield ThreadedServer(f"http://127.0.0.1:{listener.getsockname()[1]}")
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        listener.close()
