"""The scheduler's Prometheus metrics, registered on the registry that `/metrics` serves.

Alert on them: `ops_monitor_scheduler_last_success_timestamp_seconds` going stale is the dead man's
switch seen from Prometheus; a rising `..._skipped_ticks_total{reason="overlap"}` means scans take
longer than the gap between ticks.
"""

from __future__ import annotations

from typing import ClassVar
from weakref import WeakKeyDictionary

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

# Scans take seconds to many minutes; buckets span both.
_DURATION_BUCKETS = (0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600)


class SchedulerMetrics:
    """Runs by schedule and outcome, their duration, the last success and the skipped ticks."""

    _by_registry: ClassVar[WeakKeyDictionary[CollectorRegistry, SchedulerMetrics]] = (
        WeakKeyDictionary()
    )

    @classmethod
    def on(cls, registry: CollectorRegistry) -> SchedulerMetrics:
        """The scheduler metrics of `registry`, created once: a registry refuses duplicates, and a
        restarted scheduler in the same process must keep counting on the same series."""
        metrics = cls._by_registry.get(registry)
        if metrics is None:
            metrics = cls._by_registry[registry] = cls(registry)
        return metrics

    def __init__(self, registry: CollectorRegistry) -> None:
        self.runs = Counter(
            "ops_monitor_scheduler_runs",
            "Scheduled scans started by the scheduler, by schedule and outcome.",
            ["schedule", "outcome"],
            registry=registry,
        )
        self.duration = Histogram(
            "ops_monitor_scheduler_run_duration_seconds",
            "Wall time of scheduled scans, by schedule.",
            ["schedule"],
            buckets=_DURATION_BUCKETS,
            registry=registry,
        )
        self.last_success = Gauge(
            "ops_monitor_scheduler_last_success_timestamp_seconds",
            "Unix time at which the last successful scheduled scan of each schedule finished.",
            ["schedule"],
            registry=registry,
        )
        self.skipped = Counter(
            "ops_monitor_scheduler_skipped_ticks",
            "Ticks that did not start a scan, by schedule and reason "
            "(overlap, superseded, busy, claimed, missed).",
            ["schedule", "reason"],
            registry=registry,
        )
