"""A recording test double of the monitor service, for route tests (injected, never patched in).

It plays `ops_monitor.ports.MonitorService`, the interface the routes depend on; mypy checks
that it does wherever it is injected (`create_app(service=...)`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ops_monitor.ingest.malformed import MalformedLines
from ops_monitor.models import (
    Issue,
    IssueCategory,
    IssueNotFoundError,
    IssueSeverity,
    IssueStatus,
    LogRecord,
    ScanFilters,
    ScanInProgressError,
    ScanResult,
    ScanStatus,
    Scope,
)

T0 = datetime(2026, 1, 1, 2, 0, tzinfo=UTC)


def an_issue(issue_id: int = 1, **changes: Any) -> Issue:
    fields: dict[str, Any] = {
        "id": issue_id,
        "fingerprint": f"fp{issue_id}",
        "title": "TimeoutError in checkout",
        "category": IssueCategory.STABILITY,
        "severity": IssueSeverity.HIGH,
        "status": IssueStatus.NEW,
        "source": "checkout",
        "template": "TimeoutError after <*> ms",
        "occurrences": 3,
        "first_seen": T0,
        "last_seen": T0,
    }
    return Issue(**(fields | changes))


@dataclass
class RecordingService:
    """Answers like the real service and remembers every call it received."""

    on_scan_completed: Callable[[ScanResult], None] | None = None
    calls: list[tuple[str, Any]] = field(default_factory=list)
    failure: Exception | None = None
    scan_status: str = "completed"
    running: int | None = None
    issues: list[Issue] = field(default_factory=lambda: [an_issue(1), an_issue(2)])
    ingested: list[LogRecord] = field(default_factory=list)
    scans: list[ScanResult] = field(default_factory=list)

    def run_scan(
        self, scope: Scope, filters: ScanFilters | None = None, *, trigger: str = "manual"
    ) -> ScanResult:
        self.calls.append(("run_scan", (scope, filters, trigger)))
        if self.running is not None:
            raise ScanInProgressError(self.running)
        if self.failure is not None:
            raise self.failure
        result = ScanResult.model_validate(
            {
                "id": 41 + len(self.calls),
                "scope": scope,
                "status": self.scan_status,
                "trigger": trigger,
                "started_at": T0,
                "finished_at": T0,
                "logs_processed": 12,
                "issues_found": 2,
                "issues_filed": 1,
                "error": "database is locked" if self.scan_status == "failed" else None,
            }
        )
        self.scans.append(result)
        if self.on_scan_completed is not None and result.status == "completed":
            self.on_scan_completed(result)
        return result

    def running_scan_id(self) -> int | None:
        return self.running

    def last_scan(
        self,
        scope: Scope | None = None,
        trigger: str | None = None,
        status: ScanStatus | None = None,
    ) -> ScanResult | None:
        wanted = {"scope": scope, "trigger": trigger, "status": status}
        for scan in reversed(self.scans):
            if all(v is None or getattr(scan, k) == v for k, v in wanted.items()):
                return scan
        return None

    def recent_scans(self, limit: int = 20) -> list[ScanResult]:
        self.calls.append(("recent_scans", limit))
        return []

    def open_issues(
        self,
        limit: int = 50,
        offset: int = 0,
        *,
        status: IssueStatus | None = None,
        severity: IssueSeverity | None = None,
        category: IssueCategory | None = None,
        source: str | None = None,
    ) -> list[Issue]:
        self.calls.append(("open_issues", (limit, offset, status, severity, category, source)))
        return self.issues[offset : offset + limit]

    def resolve_issue(self, issue_id: int, resolution: str) -> Issue:
        self.calls.append(("resolve_issue", (issue_id, resolution)))
        for issue in self.issues:
            if issue.id == issue_id:
                return issue.model_copy(
                    update={"status": IssueStatus.RESOLVED, "resolution": resolution}
                )
        raise IssueNotFoundError(issue_id)

    def ingest(
        self,
        records: Iterable[LogRecord],
        *,
        origin: str = "push",
        malformed: MalformedLines | None = None,
    ) -> int:
        batch = list(records)
        self.ingested.extend(batch)
        self.calls.append(("ingest", (len(batch), origin, malformed.count if malformed else 0)))
        return len(batch)
