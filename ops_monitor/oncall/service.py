"""`OnCallService`: log search and tail, issue detail and history, ignore and reopen, and the
reconciliation that turns what scans and people changed into history events (and so alerts).

History is derived after the fact rather than written by filing: a pass compares each issue
changed since the last pass with its latest recorded event, and appends what is missing (new,
regressed, resolved, ignore expired, escalating). Passes are idempotent and safe to run from
several processes at once (an event is recorded once per step, see `issue_history.record`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Row

from ops_monitor.models import Issue, IssueNotFoundError, IssueSeverity, IssueStatus
from ops_monitor.oncall.timeline import EscalationRule, buckets, escalation
from ops_monitor.store import Store, log_search
from ops_monitor.store import alert_deliveries as delivery_rows
from ops_monitor.store import issue_history as history_rows
from ops_monitor.store import issues as issue_rows
from ops_monitor.store import scans as scan_rows
from ops_monitor.store.alert_deliveries import Delivery
from ops_monitor.store.logs import max_log_id
from ops_monitor.store.scans import utc
from ops_monitor.views.issue_history import (
    EventKind,
    IgnoreRule,
    IssueDetail,
    IssueEvent,
    IssueSort,
    IssueState,
)
from ops_monitor.views.log_page import LogEntry, LogPage
from ops_monitor.views.log_query import LogQuery

WATERMARK = "oncall.reconciled_until"
OVERLAP = timedelta(minutes=5)  # re-examine recent changes: clocks of writers differ a little
PASS_LIMIT = 2000  # issues examined per pass; the rest wait for the next one
ESCALATION_CHECKS = 100  # issues checked for escalation per pass (the most recently seen)
TIMELINE_BUCKETS = 24
SAMPLE_RECORDS = 5
TIMELINE_RECORDS = 100_000  # records counted per chart: a bound on its cost


def utc_now() -> datetime:
    return datetime.now(UTC)


class OnCallService:
    """Thread-safe: every call opens its own connection."""

    def __init__(
        self,
        store: Store,
        *,
        clock: Callable[[], datetime] = utc_now,
        escalation_rule: EscalationRule | None = None,
        slow_request_ms: float = 1000.0,
    ) -> None:
        self.store = store
        self.clock = clock
        self.escalation_rule = escalation_rule or EscalationRule()
        self.slow_request_ms = slow_request_ms

    # ------------------------------------------------------------------ logs
    def search_logs(self, query: LogQuery) -> LogPage:
        with self.store.read() as connection:
            return log_search.search(connection, query)

    def tail_logs(self, after_id: int, query: LogQuery) -> list[LogEntry]:
        with self.store.read() as connection:
            return log_search.after(connection, after_id, query)

    def last_log_id(self) -> int:
        with self.store.read() as connection:
            return max_log_id(connection)

    # ------------------------------------------------------------------ issues
    def list_issues(
        self,
        *,
        state: IssueState = "open",
        severity: IssueSeverity | None = None,
        source: str | None = None,
        text: str | None = None,
        sort: IssueSort = "last_seen",
        limit: int = 50,
        offset: int = 0,
    ) -> list[tuple[Issue, IgnoreRule | None]]:
        with self.store.read() as connection:
            return history_rows.listing(
                connection,
                state=state,
                severity=severity,
                source=source,
                text=text,
                sort=sort,
                limit=limit,
                offset=offset,
            )

    def sources(self) -> list[str]:
        with self.store.read() as connection:
            return history_rows.sources(connection)

    def issue_detail(self, issue_id: int) -> IssueDetail:
        with self.store.read() as connection:
            found = history_rows.row(connection, issue_id)
            if found is None:
                raise IssueNotFoundError(issue_id)
            issue = issue_rows.to_issue(found)
            width = _chart_width(issue)
            end = issue.last_seen
            start = end - width * TIMELINE_BUCKETS
            times = history_rows.occurrence_times(
                connection, found, start, end, self.slow_request_ms, TIMELINE_RECORDS
            )
            rules = history_rows.ignore_rules(connection, [issue_id])
            return IssueDetail(
                issue=issue,
                rule=found.rule,
                template_id=found.template_id,
                history=history_rows.history(connection, issue_id),
                ignored=rules.get(issue_id),
                timeline=[] if times is None else buckets(times, end, width, TIMELINE_BUCKETS),
                timeline_truncated=times is not None and len(times) >= TIMELINE_RECORDS,
                sample_records=[
                    log_search.entry(row)
                    for row in history_rows.latest_records(
                        connection, found, self.slow_request_ms, SAMPLE_RECORDS
                    )
                ],
            )

    def evidence(self, issue_id: int) -> dict[str, Any]:
        with self.store.read() as connection:
            found = history_rows.row(connection, issue_id)
        if found is None:
            raise IssueNotFoundError(issue_id)
        return dict(json.loads(found.evidence))

    def resolve(self, issue_id: int, resolution: str) -> Issue:
        now = self.clock()
        with self.store.write() as connection:
            if not issue_rows.resolve(connection, issue_id, resolution, now):
                raise IssueNotFoundError(issue_id)
            issue = self._issue(connection, issue_id)
            history_rows.unignore(connection, issue_id)
            history_rows.record(
                connection, issue_id, EventKind.RESOLVED, now, issue.occurrences, resolution
            )
        return issue

    def record_resolution(self, issue: Issue) -> None:
        """Put a resolution made elsewhere (`OpsMonitorService.resolve_issue`) in the history."""
        with self.store.write() as connection:
            last = history_rows.latest_events(connection, [issue.id]).get(issue.id)
            # No event yet: the next pass records `new` (and alerts on it), then this resolution.
            if last is not None and last.kind is not EventKind.RESOLVED:
                history_rows.unignore(connection, issue.id)
                history_rows.record(
                    connection,
                    issue.id,
                    EventKind.RESOLVED,
                    issue.resolved_at or self.clock(),
                    issue.occurrences,
                    issue.resolution or "",
                    after_seq=last.seq,
                )

    def ignore(
        self, issue_id: int, *, until: datetime | None = None, more: int | None = None
    ) -> IgnoreRule:
        """Hide the issue until `until`, or until `more` further occurrences, or for good."""
        now = self.clock()
        with self.store.write() as connection:
            issue = self._issue(connection, issue_id)
            rule = IgnoreRule(
                created_at=now,
                until=until,
                until_occurrences=None if more is None else issue.occurrences + more,
            )
            history_rows.ignore(connection, issue_id, rule)
            history_rows.record(
                connection, issue_id, EventKind.IGNORED, now, issue.occurrences, _ignore_note(rule)
            )
        return rule

    def reopen(self, issue_id: int) -> Issue:
        """Undo a resolve or an ignore: the issue is open again."""
        now = self.clock()
        with self.store.write() as connection:
            self._issue(connection, issue_id)
            reopened = history_rows.reopen(connection, issue_id, now)
            unignored = history_rows.unignore(connection, issue_id)
            issue = self._issue(connection, issue_id)
            if reopened or unignored:
                history_rows.record(
                    connection, issue_id, EventKind.REOPENED, now, issue.occurrences
                )
        return issue

    @staticmethod
    def _issue(connection: Connection, issue_id: int) -> Issue:
        found = issue_rows.get(connection, issue_id)
        if found is None:
            raise IssueNotFoundError(issue_id)
        return found

    def deliveries(self, limit: int = 50, subject: str | None = None) -> list[Delivery]:
        with self.store.read() as connection:
            return delivery_rows.recent(connection, limit, subject)

    # ------------------------------------------------------------------ history
    def reconcile(self) -> list[tuple[IssueEvent, Issue]]:
        """Record what changed since the last pass; return the events recorded by THIS call
        (another process recording the same step gets it instead), with their issues."""
        now = self.clock()
        recorded: list[tuple[IssueEvent, Issue]] = []
        with self.store.write() as connection:
            mark = scan_rows.get_state(connection, WATERMARK)
            since = (
                datetime.fromisoformat(mark) - OVERLAP if mark else datetime(1970, 1, 1, tzinfo=UTC)
            )
            changed = history_rows.rows_updated_since(connection, since, PASS_LIMIT)
            latest = history_rows.latest_events(connection, [int(r.id) for r in changed])
            rules = history_rows.all_ignore_rules(connection)
            for found in changed:
                recorded.extend(self._catch_up(connection, found, latest.get(int(found.id)), now))
            recorded.extend(self._expire_ignores(connection, rules, now))
            checks = sorted(changed, key=lambda r: utc(r.last_seen), reverse=True)
            recorded.extend(self._escalations(connection, checks[:ESCALATION_CHECKS], rules, now))
            newest = max((utc(r.updated_at) for r in changed), default=None)
            if newest is not None and len(changed) < PASS_LIMIT:
                scan_rows.set_state(connection, WATERMARK, newest.isoformat())
            elif newest is not None:  # more to do: resume just before the last one examined
                scan_rows.set_state(connection, WATERMARK, (newest + OVERLAP).isoformat())
        return recorded

    def _catch_up(
        self, connection: Connection, found: Row[Any], last: IssueEvent | None, now: datetime
    ) -> list[tuple[IssueEvent, Issue]]:
        issue = issue_rows.to_issue(found)
        status = issue.status
        kind: EventKind | None = None
        at = now
        if last is None:
            kind, at = EventKind.NEW, utc(found.created_at)
            if status is IssueStatus.RESOLVED:  # resolved before any pass saw it
                first = history_rows.record(
                    connection, issue.id, kind, at, issue.occurrences, after_seq=0
                )
                if first is None:
                    return []
                done = [(first, issue)]
                resolved = history_rows.record(
                    connection,
                    issue.id,
                    EventKind.RESOLVED,
                    issue.resolved_at or now,
                    issue.occurrences,
                    issue.resolution or "",
                    after_seq=first.seq,
                )
                return done + ([(resolved, issue)] if resolved else [])
        elif status is IssueStatus.REGRESSED and _regression_unrecorded(connection, issue.id):
            kind = EventKind.REGRESSED
        elif status is IssueStatus.RESOLVED and last.kind is not EventKind.RESOLVED:
            kind, at = EventKind.RESOLVED, issue.resolved_at or now
        if kind is None:
            return []
        detail = issue.resolution or "" if kind is EventKind.RESOLVED else ""
        event = history_rows.record(
            connection,
            issue.id,
            kind,
            at,
            issue.occurrences,
            detail,
            after_seq=0 if last is None else last.seq,
        )
        return [] if event is None else [(event, issue)]

    def _expire_ignores(
        self, connection: Connection, rules: dict[int, IgnoreRule], now: datetime
    ) -> list[tuple[IssueEvent, Issue]]:
        recorded: list[tuple[IssueEvent, Issue]] = []
        for issue_id, rule in sorted(rules.items()):
            issue = issue_rows.get(connection, issue_id)
            if issue is None:
                continue
            by_date = rule.until is not None and rule.until <= now
            by_count = (
                rule.until_occurrences is not None and issue.occurrences >= rule.until_occurrences
            )
            if not (by_date or by_count):
                continue
            if history_rows.unignore(connection, issue_id):
                why = "its date passed" if by_date else "it occurred again as often as allowed"
                event = history_rows.record(
                    connection, issue_id, EventKind.UNIGNORED, now, issue.occurrences, why
                )
                if event is not None:
                    recorded.append((event, issue))
        return recorded

    def _escalations(
        self,
        connection: Connection,
        candidates: list[Row[Any]],
        rules: dict[int, IgnoreRule],
        now: datetime,
    ) -> list[tuple[IssueEvent, Issue]]:
        rule = self.escalation_rule
        recorded: list[tuple[IssueEvent, Issue]] = []
        for found in candidates:
            issue = issue_rows.to_issue(found)
            if issue.status is IssueStatus.RESOLVED or issue.id in rules:
                continue
            if found.rule == "error-spike":
                continue  # a spike is a rate already: its growth is the spike rule's to report
            previous = history_rows.last_of_kind(connection, issue.id, EventKind.ESCALATING)
            if previous is not None and previous.at > issue.last_seen - rule.window * (
                rule.baseline_windows + 1
            ):
                continue  # one escalation per baseline period
            span = rule.window * (rule.baseline_windows + 1)
            times = history_rows.occurrence_times(
                connection,
                found,
                issue.last_seen - span,
                issue.last_seen,
                self.slow_request_ms,
                TIMELINE_RECORDS,
            )
            if times is None:
                continue
            found_escalation = escalation(times, issue.last_seen, issue.first_seen, rule)
            if found_escalation is None:
                continue
            event = history_rows.record(
                connection,
                issue.id,
                EventKind.ESCALATING,
                now,
                issue.occurrences,
                found_escalation.describe(rule),
            )
            if event is not None:
                recorded.append((event, issue))
        return recorded


def _chart_width(issue: Issue) -> timedelta:
    """Hourly over the last day; wider for issues seen over a longer span (up to daily)."""
    span = issue.last_seen - issue.first_seen
    for width in (timedelta(hours=1), timedelta(hours=6), timedelta(days=1)):
        if span <= width * TIMELINE_BUCKETS:
            return width
    return timedelta(days=1)


def _ignore_note(rule: IgnoreRule) -> str:
    parts = []
    if rule.until is not None:
        parts.append(f"until {rule.until.isoformat(timespec='minutes')}")
    if rule.until_occurrences is not None:
        parts.append(f"until {rule.until_occurrences} occurrences")
    return " or ".join(parts) or "for good"


def _regression_unrecorded(connection: Connection, issue_id: int) -> bool:
    """A regressed issue whose regression has no event since its last resolution."""
    regressed = history_rows.last_of_kind(connection, issue_id, EventKind.REGRESSED)
    if regressed is None:
        return True
    resolved = history_rows.last_of_kind(connection, issue_id, EventKind.RESOLVED)
    return resolved is not None and resolved.seq > regressed.seq
