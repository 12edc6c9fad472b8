"""What routes depend on, injected so tests can swap each piece through `dependency_overrides`."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol, cast

from starlette.requests import HTTPConnection

from ops_monitor.api.broadcast_hub import Broadcaster
from ops_monitor.ingest.malformed import MalformedLines
from ops_monitor.ingest.summary import IdempotencyKey, IngestSummary
from ops_monitor.models import (
    Issue,
    IssueCategory,
    IssueSeverity,
    IssueStatus,
    LogRecord,
    ScanFilters,
    ScanResult,
    Scope,
)
from ops_monitor.store.totals import StoreTotals


class MonitorService(Protocol):
    """The part of `OpsMonitorService` the routes call. It is synchronous (SQLAlchemy), so routes
    run it in the threadpool and never on the event loop."""

    def run_scan(
        self, scope: Scope, filters: ScanFilters | None = None, *, trigger: str = "manual"
    ) -> ScanResult: ...

    def running_scan_id(self) -> int | None: ...

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

    def store_totals(self) -> StoreTotals: ...

    def ingest(
        self,
        records: Iterable[LogRecord],
        *,
        origin: str = "push",
        malformed: MalformedLines | None = None,
    ) -> int: ...

    def store_logs(
        self,
        records: Iterable[LogRecord],
        *,
        origin: str = "push",
        malformed: MalformedLines | None = None,
        batch_size: int | None = ...,
        idempotency: IdempotencyKey | None = None,
    ) -> IngestSummary: ...


def get_service(connection: HTTPConnection) -> MonitorService:
    return cast(MonitorService, connection.app.state.service)


def get_broadcaster(connection: HTTPConnection) -> Broadcaster:
    return cast(Broadcaster, connection.app.state.broadcaster)
