"""The shapes the service, its API, the scheduler and the CLI exchange.

Pydantic models, because FastAPI validates requests and documents responses with them. The client
(`ops_monitor/client.py`) deliberately does not import these: apps and `readiness` depend on the
client alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Scope = Literal["full", "incremental"]
ScanStatus = Literal["running", "completed", "failed"]


class IssueStatus(StrEnum):
    """Sentry's lifecycle: an issue is new, then ongoing; a resolved issue that recurs regressed."""

    NEW = "new"
    ONGOING = "ongoing"
    REGRESSED = "regressed"
    RESOLVED = "resolved"


class IssueSeverity(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class IssueCategory(StrEnum):
    STABILITY = "stability"
    PERFORMANCE = "performance"


class LogRecord(BaseModel):
    """One normalised log record, whatever source it came from."""

    model_config = ConfigDict(frozen=True)

    timestamp: datetime  # timezone-aware, UTC
    source: str  # the worker or service that wrote it
    level: str  # lower case: debug, info, warning, error, critical
    message: str
    attributes: dict[str, Any] = Field(default_factory=dict)


class ScanFilters(BaseModel):
    """Restricts what a scan reads. Unknown keys are a 400 naming the key."""

    model_config = ConfigDict(extra="forbid")

    sources: list[str] | None = None
    levels: list[str] | None = None
    since: datetime | None = None
    until: datetime | None = None


class ScanRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    scope: Scope
    filters: ScanFilters = Field(default_factory=ScanFilters)


class ScanResult(BaseModel):
    """A scan's record, as stored in `ops_scans` and returned by `POST /api/ops/scan`."""

    id: int
    scope: Scope
    status: ScanStatus
    trigger: str  # "manual", "api", or the name of the schedule that fired it
    started_at: datetime
    finished_at: datetime | None = None
    logs_processed: int = 0
    issues_found: int = 0
    issues_filed: int = 0
    issues_reopened: int = 0
    malformed_lines: int = 0
    malformed_samples: list[str] = Field(default_factory=list)
    error: str | None = None


class Issue(BaseModel):
    """One deduplicated problem: a fingerprint, its lifecycle and its evidence."""

    id: int
    fingerprint: str
    title: str
    category: IssueCategory
    severity: IssueSeverity
    status: IssueStatus
    source: str
    template: str
    occurrences: int
    first_seen: datetime
    last_seen: datetime
    samples: list[str] = Field(default_factory=list)
    resolution: str | None = None
    resolved_at: datetime | None = None


@dataclass(frozen=True)
class IssueRecord:
    """Everything one `ops_issues` row holds, as Python values: what the filing rules
    (`analysis/filing.py`) decide and the store (`store/issues.py`) reads and writes.
    `id` is None for an issue not stored yet."""

    id: int | None
    fingerprint: str
    rule: str
    title: str
    category: IssueCategory
    severity: IssueSeverity
    status: IssueStatus
    source: str
    template_id: str
    template: str
    occurrences: int
    first_seen: datetime
    last_seen: datetime
    samples: list[str]
    evidence: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    last_scan_id: int | None
    resolution: str | None = None
    resolved_at: datetime | None = None


class ScanInProgressError(Exception):
    """Raised when a scan is requested while another one runs (the API answers 409)."""

    def __init__(self, running_scan_id: int) -> None:
        super().__init__(f"scan {running_scan_id} is already running")
        self.running_scan_id = running_scan_id


class IssueNotFoundError(LookupError):
    def __init__(self, issue_id: int) -> None:
        super().__init__(f"issue {issue_id} does not exist")
        self.issue_id = issue_id
