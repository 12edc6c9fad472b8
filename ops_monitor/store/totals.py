"""What the store holds, counted in the database: every replica on it reads the same figures."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Connection, func, select

from ops_monitor.models import IssueSeverity, IssueStatus
from ops_monitor.store.scans import utc
from ops_monitor.store.schema import issues, operation_logs, scans

_OPEN = [IssueStatus.NEW.value, IssueStatus.ONGOING.value, IssueStatus.REGRESSED.value]


@dataclass(frozen=True)
class StoreTotals:
    records: int
    open_issues: dict[str, int] = field(default_factory=dict)  # by severity, each one listed
    last_scan: dict[str, datetime] = field(default_factory=dict)  # scope -> last completed


def read_totals(connection: Connection) -> StoreTotals:
    records = int(connection.scalar(select(func.count()).select_from(operation_logs)) or 0)
    open_issues = {severity.value: 0 for severity in IssueSeverity}
    query = (
        select(issues.c.severity, func.count())
        .where(issues.c.status.in_(_OPEN))
        .group_by(issues.c.severity)
    )
    for severity, count in connection.execute(query):
        open_issues[str(severity)] = int(count)
    last_scan = {
        str(scope): utc(finished)
        for scope, finished in connection.execute(
            select(scans.c.scope, func.max(scans.c.finished_at))
            .where(scans.c.status == "completed")
            .group_by(scans.c.scope)
        )
        if finished is not None
    }
    return StoreTotals(records, open_issues, last_scan)
