"""The monitor service's interface, stated once: what the API, the scheduler and cron health
call on `OpsMonitorService` (`service.py`), and what a test double of it must answer.

Each caller depends on the narrowest role it needs; `OpsMonitorService` plays them all. The
service is synchronous (SQLAlchemy), so routes run it in the threadpool, never on the event loop.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from ops_monitor.ingest.malformed import MalformedLines
from ops_monitor.models import (
    Issue,
    IssueCategory,
    IssueSeverity,
    IssueStatus,
    LogRecord,
    ScanFilters,
    ScanResult,
    ScanStatus,
    Scope,
)
from ops_monitor.store import Store


class ScanReader(Protocol):
    """The scans as recorded: the one running now and the latest of a kind."""

    def running_scan_id(self) -> int | None: ...

    def last_scan(
        self,
        scope: Scope | None = None,
        trigger: str | None = None,
        status: ScanStatus | None = None,
    ) -> ScanResult | None: ...


class ScanService(ScanReader, Protocol):
    """What the scheduler calls: run a scan, and read the scans' record."""

    def run_scan(
        self, scope: Scope, filters: ScanFilters | None = None, *, trigger: str = "manual"
    ) -> ScanResult: ...


class ScanHistory(ScanReader, Protocol):
    """What cron health reads: the scans' record, and the store the schedules' starts are in."""

    @property
    def store(self) -> Store: ...


class MonitorService(ScanService, Protocol):
    """What the API routes call."""

    def recent_scans(self, limit: int = 20) -> list[ScanResult]: ...

    def open_issues(
        self,
        limit: int = 50,
        offset: int = 0,
        *,
        status: IssueStatus | None = None,
        severity: IssueSeverity | None = None,
        category: IssueCategory | None = None,
        source: str | None = None,
    ) -> list[Issue]: ...

    def resolve_issue(self, issue_id: int, resolution: str) -> Issue: ...

    def ingest(
        self,
        records: Iterable[LogRecord],
        *,
        origin: str = "push",
        malformed: MalformedLines | None = None,
    ) -> int: ...
