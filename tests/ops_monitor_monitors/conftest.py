"""A fake-clock harness over the real monitors service and a real SQLite file."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from ops_monitor_api.live_monitor import db_url  # noqa: F401 - a fixture: pytest finds it by name
from prometheus_client import CollectorRegistry

from ops_monitor.models import Issue, IssueStatus
from ops_monitor.monitors.config import parse_monitor_config
from ops_monitor.monitors.metrics import MonitorMetrics
from ops_monitor.monitors.service import CronMonitors
from ops_monitor.monitors.views import DeclaredMonitor, MonitorDetail, StateChange
from ops_monitor.service import OpsMonitorService
from ops_monitor.store import Store

START = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)  # a Monday


@dataclass
class Harness:
    """The service with a clock the test moves, evaluating at least every 60 s (the scheduler
    does every 30 s; 60 s keeps the tests quick and stays well inside the outage threshold)."""

    monitors: CronMonitors
    service: OpsMonitorService
    registry: CollectorRegistry
    now: datetime = START
    changes: list[StateChange] = field(default_factory=list)

    def clock(self) -> datetime:
        return self.now

    def declare(self, slug: str = "job", **config: Any) -> DeclaredMonitor:
        config.setdefault("schedule", "0 * * * *")
        return self.monitors.declare(slug, parse_monitor_config(config))

    def at(self, moment: datetime) -> None:
        """Jump to `moment` without evaluating: the monitor was not running meanwhile."""
        self.now = moment

    def run_until(self, moment: datetime, step: timedelta = timedelta(seconds=60)) -> None:
        """Let time pass to `moment`, evaluating every `step` as the scheduler does."""
        while self.now < moment:
            self.now = min(self.now + step, moment)
            self.monitors.evaluate()

    def advance(self, **delta: float) -> None:
        self.run_until(self.now + timedelta(**delta))

    def check_in(self, status: str, slug: str = "job", **extra: Any) -> str:
        return self.monitors.check_in(slug, status, **extra)

    def show(self, slug: str = "job") -> MonitorDetail:
        return self.monitors.monitor(slug, limit=200)

    def state(self, slug: str = "job") -> str:
        return self.show(slug).state

    def issues(self, status: IssueStatus | None = None) -> list[Issue]:
        return self.service.open_issues(status=status)

    def metric(self, name: str, **labels: str) -> float | None:
        return self.registry.get_sample_value(name, labels)


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[Harness]:
    store = Store(f"sqlite:///{tmp_path / 'ops.db'}")
    store.migrate()
    registry = CollectorRegistry()
    holder: list[Harness] = []
    monitors = CronMonitors(
        store,
        clock=lambda: holder[0].clock(),
        on_change=lambda change: holder[0].changes.append(change),
        metrics=MonitorMetrics.on(registry),
    )
    service = OpsMonitorService(store, clock=lambda: holder[0].clock())
    holder.append(Harness(monitors, service, registry))
    try:
        yield holder[0]
    finally:
        store.close()
