"""Prometheus collectors for the monitor, in one registry that `/metrics` exposes.

A module-level `REGISTRY` (not prometheus-client's global one) so that tests and several
services in one process see the same, isolated set of series, and nothing else leaks in. Its
counters are per process: each replica counts what it did. What the store holds (records, open
issues, last scans) is read from the database at each scrape instead (`store_exposition`), so it
reads the same from every replica on one database.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from ops_monitor.store.totals import StoreTotals

REGISTRY = CollectorRegistry(auto_describe=True)

SCANS = Counter(
    "ops_monitor_scans",
    "Scans finished, by scope, status and trigger.",
    ["scope", "status", "trigger"],
    registry=REGISTRY,
)
SCAN_DURATION = Histogram(
    "ops_monitor_scan_duration_seconds",
    "Wall time of a scan, by scope.",
    ["scope"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300),
    registry=REGISTRY,
)
SCANS_REJECTED = Counter(
    "ops_monitor_scans_rejected",
    "Scan requests refused because another scan was running.",
    registry=REGISTRY,
)
LOGS_INGESTED = Counter(
    "ops_monitor_logs_ingested",
    "Log records stored, by origin (file format or push).",
    ["origin"],
    registry=REGISTRY,
)
LOGS_EXPIRED = Counter(
    "ops_monitor_logs_expired",
    "Log records not stored because they were older than the retention window, by origin.",
    ["origin"],
    registry=REGISTRY,
)
PUSHES_REPLAYED = Counter(
    "ops_monitor_pushes_replayed",
    "Pushes answered from an earlier push with the same Idempotency-Key, not stored again.",
    registry=REGISTRY,
)
LOGS_PROCESSED = Counter(
    "ops_monitor_logs_processed",
    "Log records read by scans, by scope.",
    ["scope"],
    registry=REGISTRY,
)
MALFORMED_LINES = Counter(
    "ops_monitor_malformed_lines",
    "Input lines that could not be parsed into a log record, by origin.",
    ["origin"],
    registry=REGISTRY,
)
ISSUES_FILED = Counter(
    "ops_monitor_issues_filed",
    "Issues opened by scans (new), by category and severity.",
    ["category", "severity"],
    registry=REGISTRY,
)
ISSUES_REOPENED = Counter(
    "ops_monitor_issues_reopened",
    "Resolved issues that recurred and were reopened as regressed.",
    ["category"],
    registry=REGISTRY,
)

METRIC_NAMES: tuple[str, ...] = (
    "ops_monitor_scans_total",
    "ops_monitor_scan_duration_seconds",
    "ops_monitor_scans_rejected_total",
    "ops_monitor_logs_ingested_total",
    "ops_monitor_logs_expired_total",
    "ops_monitor_pushes_replayed_total",
    "ops_monitor_logs_processed_total",
    "ops_monitor_malformed_lines_total",
    "ops_monitor_issues_filed_total",
    "ops_monitor_issues_reopened_total",
)
"""The series names as they appear on `/metrics` (the runbooks list them)."""

STORE_METRIC_NAMES: tuple[str, ...] = (
    "ops_monitor_store_records",
    "ops_monitor_store_open_issues",
    "ops_monitor_store_last_scan_timestamp_seconds",
)
"""The series read from the database at each scrape (`store_exposition`)."""


class _StoreTotalsCollector(Collector):
    def __init__(self, totals: StoreTotals) -> None:
        self.totals = totals

    def collect(self) -> Iterator[Metric]:
        records = GaugeMetricFamily(
            STORE_METRIC_NAMES[0],
            "Log records in the store, from every replica; read from the database.",
            value=self.totals.records,
        )
        issues = GaugeMetricFamily(
            STORE_METRIC_NAMES[1],
            "Open issues (new, ongoing, regressed) by severity; read from the database.",
            labels=["severity"],
        )
        for severity, count in self.totals.open_issues.items():
            issues.add_metric([severity], count)
        last = GaugeMetricFamily(
            STORE_METRIC_NAMES[2],
            "Unix time the last completed scan of each scope finished; read from the database.",
            labels=["scope"],
        )
        for scope, finished in sorted(self.totals.last_scan.items()):
            last.add_metric([scope], finished.timestamp())
        yield from (records, issues, last)


def store_exposition(totals: StoreTotals) -> bytes:
    """The store's figures in the text exposition format, to serve after `REGISTRY`'s."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_StoreTotalsCollector(totals))
    return generate_latest(registry)
