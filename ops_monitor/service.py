"""`OpsMonitorService`: scans (read, analyse, file), the issue list, resolution and ingest.

A scan reads its records with no write lock held, then writes everything it decided (issues,
its own record, the cursor, the template miner's state, retention) in ONE transaction. A crash
before that commit leaves the stored issues and the cursor as they were; the scan's `running`
row is marked failed by the next scan. One scan runs at a time, across processes: the store's
scan lock (a file lock or a PostgreSQL advisory lock, released by the OS or the server when the
holder dies) plus a unique index that admits one `running` row.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from functools import partial

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from ops_monitor import metrics
from ops_monitor.analysis.candidates import (
    ERROR_LEVELS,
    EXCEPTION_OUTCOMES,
    LIMIT_OUTCOMES,
    CandidateCollector,
    RuleSettings,
    find_spikes,
)
from ops_monitor.analysis.filing import plan_filing
from ops_monitor.analysis.templates import TemplateMiner
from ops_monitor.config import Settings
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
)
from ops_monitor.store import ScanLockHeld, Store
from ops_monitor.store import issues as issue_rows
from ops_monitor.store import logs as log_rows
from ops_monitor.store import scans as scan_rows

log = logging.getLogger(__name__)

SCOPES = ("full", "incremental")
LOG_CURSOR = "scan.operation_logs"
BATCH_CURSOR = "scan.ingest_batches"
MINER_STATE = "templates.miner"
INGEST_BATCH = 5000
# Ingest refuses records dated beyond these bounds (see `OpsMonitorService.ingest`). A day ahead
# leaves room for clock skew between producers and the monitor; before the Unix epoch (which the
# stored timestamps count from) a date is a parsing accident, not a log.
MAX_FUTURE = timedelta(days=1)
EARLIEST = log_rows.EPOCH
ERROR_CHARS = 300  # of a failed scan's error message, as stored


def utc_now() -> datetime:
    return datetime.now(UTC)


def short_error(error: BaseException) -> str:
    """What a failed scan's record says about its failure: the exception's type and the first
    line of its message. The record is returned to API clients, so it must not carry what a
    database error appends after that line (the SQL, and the parameters: log content); the full
    error goes to the server log."""
    cause = getattr(error, "orig", None)  # SQLAlchemy's wrapper around the driver's error
    detail = str(cause if isinstance(cause, BaseException) else error).strip()
    first = detail.splitlines()[0].strip() if detail else ""
    if len(first) > ERROR_CHARS:
        first = first[: ERROR_CHARS - 1] + "\u2026"
    return f"{type(error).__name__}: {first}" if first else type(error).__name__


def _describe(record: LogRecord) -> str:
    """A refused record as a malformed sample shows it (its source line is gone by then)."""
    return f"{record.timestamp.isoformat()} {record.source} {record.level}: {record.message}"


def _span(delta: timedelta) -> str:
    hours = delta / timedelta(hours=1)
    return f"{hours / 24:g} day{'s' if hours != 24 else ''}" if hours % 24 == 0 else f"{hours:g} h"


class OpsMonitorService:
    """The monitor's operations on one store. Thread-safe: every call opens its own connection."""

    def __init__(
        self,
        store: Store,
        *,
        on_scan_completed: Callable[[ScanResult], None] | None = None,
        clock: Callable[[], datetime] = utc_now,
        retention_days: int = 30,
        rules: RuleSettings | None = None,
        malformed_samples: int = 10,
        max_future: timedelta = MAX_FUTURE,
        earliest: datetime = EARLIEST,
    ) -> None:
        self.store = store
        store.migrate()  # every entry point (serve, scheduler, CLI) gets an up-to-date schema
        self.on_scan_completed = on_scan_completed
        self.clock = clock
        self.retention = timedelta(days=retention_days)
        self.rules = rules or RuleSettings()
        self.malformed_samples = malformed_samples
        self.max_future = max_future
        self.earliest = earliest

    @classmethod
    def from_settings(
        cls,
        store: Store,
        settings: Settings,
        *,
        on_scan_completed: Callable[[ScanResult], None] | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> OpsMonitorService:
        """A service with the retention and rule thresholds of `settings`."""
        return cls(
            store,
            on_scan_completed=on_scan_completed,
            clock=clock,
            retention_days=settings.retention_days,
            rules=RuleSettings(
                slow_request_ms=settings.slow_request_ms,
                spike_window_minutes=settings.spike_window_minutes,
                spike_factor=settings.spike_factor,
                spike_min_count=settings.spike_min_count,
            ),
            malformed_samples=settings.malformed_samples,
        )

    # ------------------------------------------------------------------ scans
    def run_scan(
        self, scope: str, filters: ScanFilters | None = None, *, trigger: str = "manual"
    ) -> ScanResult:
        """Run one scan to completion and return its record.

        Raises ScanInProgressError while another scan runs, ValueError for an unknown scope, and
        re-raises whatever made the scan fail after recording it as failed.

        Full scans re-read the retention window (occurrences are recomputed, never added twice)
        and drop records older than it; incremental scans read ids after the cursor. Both move
        the cursor to the last id they read, on commit. A scan with filters analyses only the
        matching records and leaves the cursor alone, so the records it skipped are not lost
        to the next incremental scan (their occurrences may then be counted by both)."""
        if scope not in SCOPES:
            raise ValueError(f"scope must be one of {', '.join(SCOPES)}, got {scope!r}")
        filters = filters or ScanFilters()

        with ExitStack() as stack:
            try:
                stack.enter_context(self.store.scan_lock())
            except ScanLockHeld:
                metrics.SCANS_REJECTED.inc()
                raise ScanInProgressError(self._running_id_soon()) from None
            with self.store.write() as connection:
                abandoned = scan_rows.fail_running(connection, self.clock(), scan_rows.INTERRUPTED)
                if abandoned:
                    log.warning("marked interrupted scans as failed: %s", abandoned)
                try:
                    scan_id = scan_rows.insert_running(
                        connection, scope, trigger, self.clock(), filters
                    )
                except IntegrityError:  # another process slipped in between lock and insert
                    metrics.SCANS_REJECTED.inc()
                    raise ScanInProgressError(scan_rows.running_id(connection) or 0) from None
            started = time.perf_counter()
            try:
                result = self._analyse_and_file(scan_id, scope, filters)
            except Exception as error:
                self._record_failure(scan_id, scope, trigger, error, started)
                raise
        metrics.SCAN_DURATION.labels(scope).observe(time.perf_counter() - started)
        metrics.SCANS.labels(scope, "completed", trigger).inc()
        metrics.LOGS_PROCESSED.labels(scope).inc(result.logs_processed)
        self._broadcast(result)
        return result

    def _running_id_soon(self) -> int:
        """The running scan's id; the holder may not have inserted its row yet, so look twice."""
        for _ in range(20):
            found = self.running_scan_id()
            if found is not None:
                return found
            time.sleep(0.01)
        return 0

    def _analyse_and_file(self, scan_id: int, scope: str, filters: ScanFilters) -> ScanResult:
        full = scope == "full"
        cutoff = self.clock() - self.retention
        cutoff_us = log_rows.to_micros(cutoff)
        unfiltered = filters == ScanFilters()
        with self.store.read() as connection:
            after_id = 0 if full else scan_rows.get_cursor(connection, LOG_CURSOR)
            after_batch = 0 if full else scan_rows.get_cursor(connection, BATCH_CURSOR)
            up_to_id = log_rows.max_log_id(connection)
            up_to_batch = log_rows.max_batch_id(connection)
            span = log_rows.LogRange(after_id, up_to_id, cutoff_us, filters)
            processed, earliest, latest = log_rows.count_logs(connection, span)
            saved = scan_rows.get_state(connection, MINER_STATE)
            miner = TemplateMiner.from_json(saved) if saved else TemplateMiner()
            collector = CandidateCollector(self.rules, miner)
            for ts, source, level, message, outcome, duration in log_rows.interesting_logs(
                connection,
                span,
                ERROR_LEVELS,
                LIMIT_OUTCOMES + EXCEPTION_OUTCOMES,
                self.rules.slow_request_ms,
            ):
                collector.add(ts, source, level, message, outcome, duration)
            candidates = collector.candidates()
            if earliest is not None and latest is not None:
                width = self.rules.spike_window_us
                first, last = earliest // width, latest // width
                counts = log_rows.error_counts(
                    connection, first, last, width, ERROR_LEVELS, filters.sources
                )
                candidates += find_spikes(
                    counts,
                    range(first, last + 1),  # a range tests membership; it is never walked
                    self.rules,
                    partial(log_rows.sources_with_records, connection, width_us=width),
                )
            malformed, samples = log_rows.malformed_since(
                connection,
                after_batch,
                up_to_batch,
                cutoff if full else None,
                self.malformed_samples,
            )
        with self.store.write() as connection:
            stored = issue_rows.by_fingerprint(connection, [k.fingerprint for k in candidates])
            plan = plan_filing(
                candidates, stored, recompute=full, scan_id=scan_id, now=self.clock()
            )
            issue_rows.insert_all(connection, plan.inserts)
            issue_rows.update_all(connection, plan.updates)
            filing = plan.outcome
            scan_rows.set_state(connection, MINER_STATE, miner.to_json())
            if unfiltered:
                scan_rows.set_cursor(connection, LOG_CURSOR, up_to_id)
                scan_rows.set_cursor(connection, BATCH_CURSOR, up_to_batch)
            if full:
                log_rows.purge_before(connection, cutoff_us)
            scan_rows.finish(
                connection,
                scan_id,
                status="completed",
                finished_at=self.clock(),
                logs_processed=processed,
                issues_found=len(candidates),
                issues_filed=filing.filed,
                issues_reopened=filing.reopened,
                malformed_lines=malformed,
                malformed_samples=samples,
                cursor_from=after_id,
                cursor_to=up_to_id,
            )
            result = scan_rows.get(connection, scan_id)
        for category, severity in filing.new_kinds:
            metrics.ISSUES_FILED.labels(category, severity).inc()
        for category in filing.reopened_kinds:
            metrics.ISSUES_REOPENED.labels(category).inc()
        return result

    def _record_failure(
        self, scan_id: int, scope: str, trigger: str, error: Exception, started: float
    ) -> None:
        log.error("scan %s (%s) failed", scan_id, scope, exc_info=error)  # the whole story
        metrics.SCANS.labels(scope, "failed", trigger).inc()
        metrics.SCAN_DURATION.labels(scope).observe(time.perf_counter() - started)
        try:
            with self.store.write() as connection:
                scan_rows.finish(
                    connection,
                    scan_id,
                    status="failed",
                    finished_at=self.clock(),
                    error=short_error(error),
                )
        except Exception:  # the database itself is gone; the next scan marks the row failed
            log.exception("could not record the failure of scan %s", scan_id)

    def _broadcast(self, result: ScanResult) -> None:
        if self.on_scan_completed is None:
            return
        try:
            self.on_scan_completed(result)
        except Exception:
            log.exception("broadcasting scan %s failed; the scan itself is committed", result.id)

    def running_scan_id(self) -> int | None:
        """The id of the scan running now, in any process; None when none is. A `running` row
        left by a process that died is marked failed here rather than reported."""
        with self.store.read() as connection:
            found = scan_rows.running_id(connection)
        if found is None or not self.recover_interrupted():
            return found
        return None

    def recover_interrupted(self) -> bool:
        """Mark scans whose process died as failed. Safe at any time: only done when the scan
        lock is free, i.e. when no scan can be running. Returns whether it could check."""
        try:
            with self.store.scan_lock(), self.store.write() as connection:
                abandoned = scan_rows.fail_running(connection, self.clock(), scan_rows.INTERRUPTED)
        except ScanLockHeld:
            return False
        if abandoned:
            log.warning("marked interrupted scans as failed: %s", abandoned)
        return True

    def recent_scans(self, limit: int = 20) -> list[ScanResult]:
        with self.store.read() as connection:
            return scan_rows.recent(connection, limit)

    def last_scan(
        self, scope: str | None = None, trigger: str | None = None, status: str | None = None
    ) -> ScanResult | None:
        with self.store.read() as connection:
            found = scan_rows.recent(connection, 1, scope=scope, trigger=trigger, status=status)
        return found[0] if found else None

    # ------------------------------------------------------------------ issues
    def open_issues(
        self,
        limit: int = 50,
        offset: int = 0,
        *,
        status: IssueStatus | str | None = None,
        severity: IssueSeverity | str | None = None,
        category: IssueCategory | str | None = None,
        source: str | None = None,
    ) -> list[Issue]:
        """Open issues (new, ongoing, regressed), most severe and most recent first; `status`
        picks one status instead, `resolved` included."""
        with self.store.read() as connection:
            return issue_rows.listing(
                connection,
                limit,
                offset,
                status=status,
                severity=severity,
                category=category,
                source=source,
            )

    def get_issue(self, issue_id: int) -> Issue:
        with self.store.read() as connection:
            return self._issue(connection, issue_id)

    @staticmethod
    def _issue(connection: Connection, issue_id: int) -> Issue:
        found = issue_rows.get(connection, issue_id)
        if found is None:
            raise IssueNotFoundError(issue_id)
        return found

    def resolve_issue(self, issue_id: int, resolution: str) -> Issue:
        with self.store.write() as connection:
            if not issue_rows.resolve(connection, issue_id, resolution, self.clock()):
                raise IssueNotFoundError(issue_id)
            return self._issue(connection, issue_id)

    # ------------------------------------------------------------------ ingest
    def ingest(
        self,
        records: Iterable[LogRecord],
        *,
        origin: str = "push",
        malformed: MalformedLines | None = None,
        batch_size: int = INGEST_BATCH,
        on_batch: Callable[[int], None] | None = None,
    ) -> int:
        """Store records in batches (each batch one transaction, memory bounded by the batch);
        return how many were stored. Malformed-line counts go into an ingest batch row that the
        next scan reports.

        A record dated more than `max_future` after the service's clock, or before `earliest`,
        is refused as malformed: one such record would otherwise stretch every later scan's
        time range (and its spike windows) to the year 9999 or 1. So is a record whose
        attributes cannot be written as JSON. Text is normalised on the way in (see
        `store.logs.row_of`) so that no value can fail the insert of a whole batch."""
        stored = 0
        rows: list[log_rows.LogRow] = []
        bad = malformed if malformed is not None else MalformedLines()
        earliest_us = log_rows.to_micros(self.earliest)
        with self.store.transactions() as connection:
            latest_us = self._latest_accepted_us()
            row_of, append = log_rows.row_of, rows.append  # the hot loop of ingest
            for record in records:
                try:
                    row = row_of(record)
                except log_rows.UnstorableRecord as error:
                    bad.refuse(str(error), _describe(record))
                    continue
                if not earliest_us <= row[0] <= latest_us:
                    bad.refuse(self._out_of_bounds(row[0], earliest_us), _describe(record))
                    continue
                append(row)
                if len(rows) >= batch_size:
                    stored += self._flush(connection, rows, on_batch)
                    latest_us = self._latest_accepted_us()  # a long stream: the clock moves on
            stored += self._flush(connection, rows, on_batch)
            with connection.begin():
                log_rows.record_batch(connection, origin, stored, bad.count, bad.samples)
        metrics.LOGS_INGESTED.labels(origin).inc(stored)
        if bad.count:
            metrics.MALFORMED_LINES.labels(origin).inc(bad.count)
        return stored

    def _latest_accepted_us(self) -> int:
        return log_rows.to_micros(self.clock() + self.max_future)

    def _out_of_bounds(self, ts_us: int, earliest_us: int) -> str:
        if ts_us < earliest_us:
            return f"timestamp: before {self.earliest.isoformat()}, the earliest accepted"
        ahead = _span(self.max_future)
        return f"timestamp: in the future, more than {ahead} ahead of the monitor's clock"

    @staticmethod
    def _flush(
        connection: Connection,
        rows: list[log_rows.LogRow],
        on_batch: Callable[[int], None] | None,
    ) -> int:
        count = len(rows)
        if count:
            with connection.begin():
                log_rows.insert_logs(connection, rows)
            rows.clear()
            if on_batch is not None:
                on_batch(count)
        return count

    def purge_expired(self) -> int:
        """Apply retention now (full scans also do it); returns how many records went."""
        cutoff_us = log_rows.to_micros(self.clock() - self.retention)
        with self.store.write() as connection:
            return log_rows.purge_before(connection, cutoff_us)
