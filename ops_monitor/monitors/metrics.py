"""Per-monitor Prometheus series, on the registry `/metrics` serves.

`ops_monitor_cron_monitor_state{monitor, state}` is 1 for the state a monitor is in and 0 for the
others (the grace state `late` included), `..._seconds_late` how far past its expected time the
next run is, `..._last_checkin_timestamp_seconds`, `..._checkins_total{status}` and a histogram
of run durations.
"""

from __future__ import annotations

from typing import ClassVar
from weakref import WeakKeyDictionary

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from ops_monitor.monitors.machine import STATES

_DURATION_BUCKETS = (1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600)

METRIC_NAMES: tuple[str, ...] = (
    "ops_monitor_cron_monitor_state",
    "ops_monitor_cron_monitor_seconds_late",
    "ops_monitor_cron_monitor_last_checkin_timestamp_seconds",
    "ops_monitor_cron_monitor_checkins_total",
    "ops_monitor_cron_monitor_run_duration_seconds",
)


class MonitorMetrics:
    _by_registry: ClassVar[WeakKeyDictionary[CollectorRegistry, MonitorMetrics]] = (
        WeakKeyDictionary()
    )

    @classmethod
    def on(cls, registry: CollectorRegistry) -> MonitorMetrics:
        metrics = cls._by_registry.get(registry)
        if metrics is None:
            metrics = cls._by_registry[registry] = cls(registry)
        return metrics

    def __init__(self, registry: CollectorRegistry) -> None:
        self.state = Gauge(
            "ops_monitor_cron_monitor_state",
            "1 for the state each cron monitor is in, 0 for the others.",
            ["monitor", "state"],
            registry=registry,
        )
        self.seconds_late = Gauge(
            "ops_monitor_cron_monitor_seconds_late",
            "Seconds past the expected time of the next run (0 while not due).",
            ["monitor"],
            registry=registry,
        )
        self.last_checkin = Gauge(
            "ops_monitor_cron_monitor_last_checkin_timestamp_seconds",
            "Unix time of each monitor's latest check-in.",
            ["monitor"],
            registry=registry,
        )
        self.checkins = Counter(
            "ops_monitor_cron_monitor_checkins",
            "Check-ins and recorded outcomes, by monitor and status.",
            ["monitor", "status"],
            registry=registry,
        )
        self.duration = Histogram(
            "ops_monitor_cron_monitor_run_duration_seconds",
            "Durations of finished runs, by monitor.",
            ["monitor"],
            buckets=_DURATION_BUCKETS,
            registry=registry,
        )

    def show_state(self, monitor: str, state: str, seconds_late: float) -> None:
        for name in STATES:
            self.state.labels(monitor, name).set(1 if name == state else 0)
        self.seconds_late.labels(monitor).set(seconds_late)
