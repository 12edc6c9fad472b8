"""`CronMonitors`: declare monitors, take check-ins and pings, evaluate, and read them back.

Each operation on a monitor is one write transaction holding its row: read it and its open
runs, let `machine` decide, store the decision (runs, the monitor, issues filed or resolved).
After the commit, a state change is logged as one JSON line, counted, and handed to `on_change`
(the broadcast); a failing listener is logged and never undoes the check-in.
"""

from __future__ import annotations

import json
import logging
import secrets
import uuid
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Row

from ops_monitor import metrics as service_metrics
from ops_monitor.analysis.filing import plan_filing
from ops_monitor.monitors import filing, machine
from ops_monitor.monitors.config import MonitorConfig, check_slug, parse_monitor_config
from ops_monitor.monitors.machine import Monitor, Run, Signal, Step
from ops_monitor.monitors.metrics import MonitorMetrics
from ops_monitor.monitors.views import (
    CheckinView,
    DeclaredMonitor,
    MonitorDetail,
    MonitorView,
    StateChange,
)
from ops_monitor.store import Store
from ops_monitor.store import issues as issue_rows
from ops_monitor.store import monitors as rows
from ops_monitor.store.scans import as_utc, utc

log = logging.getLogger("ops_monitor.monitors")

NO_SCAN = 0  # `last_scan_id` of an issue filed by a monitor evaluation rather than a scan
DEFAULT_WINDOW = timedelta(hours=24)
MAX_FUTURE = timedelta(minutes=5)  # a check-in's `timestamp` may run ahead this much (skew)
MAX_PAST = timedelta(days=366)  # how old an imported check-in or history may be
RESOLUTION = "recovered: {count} consecutive successful run(s)"


class MonitorNotFound(LookupError):
    def __init__(self, what: str) -> None:
        super().__init__(what)


class CheckinRefused(ValueError):
    """A check-in that cannot be recorded; the message names the field."""


def utc_now() -> datetime:
    return datetime.now(UTC)


class CronMonitors:
    """The cron monitors on one store. Thread-safe: every call opens its own connection."""

    def __init__(
        self,
        store: Store,
        *,
        clock: Callable[[], datetime] = utc_now,
        on_change: Callable[[StateChange], None] | None = None,
        metrics: MonitorMetrics | None = None,
        outage_after: timedelta = machine.DEFAULT_OUTAGE_AFTER,
    ) -> None:
        self.store = store
        self.clock = clock
        self.on_change = on_change
        self.metrics = metrics
        self.outage_after = outage_after

    # ------------------------------------------------------------ declare

    def declare(
        self,
        slug: str,
        config: MonitorConfig,
        *,
        origin: str = "api",
        since: datetime | None = None,
    ) -> DeclaredMonitor:
        """Create the monitor, or update its configuration (its key and history stay)."""
        check_slug(slug)
        now = self.clock()
        if since is not None:
            since = _past("since", since, now)
        with self.store.write() as connection:
            row = rows.get(connection, slug, lock=True)
            if row is None:
                monitor = machine.create(slug, config, now, since=since)
                key = secrets.token_urlsafe(18)
                monitor_id = rows.insert(
                    connection,
                    {
                        **_monitor_values(monitor, now),
                        "slug": slug,
                        "ping_key": key,
                        "origin": origin,
                        "created_at": since or now,
                    },
                )
                created = True
            else:
                monitor = machine.reconfigure(_monitor(row), config, now)
                monitor_id, key, created = int(row.id), str(row.ping_key), False
                rows.save(connection, monitor_id, _monitor_values(monitor, now))
            stored = rows.get(connection, slug)
            assert stored is not None  # noqa: S101 - written in this transaction
            view = self._view(connection, stored, now, DEFAULT_WINDOW)
        self._show(monitor, now)
        return DeclaredMonitor(**view.model_dump(), ping_key=key, created=created)

    def declare_all(self, entries: Mapping[str, MonitorConfig], origin: str) -> None:
        for slug, config in entries.items():
            self.declare(slug, config, origin=origin)

    # ------------------------------------------------------------ check-ins

    def check_in(
        self,
        slug: str,
        status: str,
        *,
        checkin_id: str | None = None,
        duration: float | None = None,
        monitor_config: Mapping[str, Any] | None = None,
        timestamp: datetime | None = None,
    ) -> str:
        """Record a Sentry-style check-in; a `monitor_config` creates or updates the monitor."""
        check_slug(slug)
        at = self._moment(timestamp)
        if monitor_config is not None:
            self.declare(slug, parse_monitor_config(monitor_config), origin="checkin")
        signal = Signal(status, at, checkin_id=checkin_id, duration=duration, origin="api")
        found = self._apply(lambda c: rows.get(c, slug, lock=True), f"monitor {slug!r}", signal)
        return found[1]

    def ping(
        self,
        key: str,
        status: str,
        *,
        excerpt: str | None = None,
        exit_status: int | None = None,
        run_id: str | None = None,
    ) -> tuple[str, str]:
        """Record a healthchecks-style ping on the monitor whose secret key is `key`; the
        monitor's slug and the check-in id."""
        signal = Signal(
            status,
            self.clock(),
            checkin_id=run_id,
            origin="ping",
            exit_status=exit_status,
            excerpt=excerpt,
        )
        return self._apply(lambda c: rows.by_key(c, key, lock=True), "ping key", signal)

    def _moment(self, timestamp: datetime | None) -> datetime:
        now = self.clock()
        if timestamp is None:
            return now
        if timestamp.tzinfo is not None and timestamp > now + MAX_FUTURE:
            raise CheckinRefused("timestamp: more than 5 minutes in the future")
        return _past("timestamp", min(timestamp, now) if timestamp.tzinfo else timestamp, now)

    def _apply(
        self, find: Callable[[Connection], Row[Any] | None], what: str, signal: Signal
    ) -> tuple[str, str]:
        with self.store.write() as connection:
            row = find(connection)
            if row is None:
                raise MonitorNotFound(f"{what} does not exist")
            monitor = _monitor(row)
            monitor_id = int(row.id)
            open_runs = [_run(r) for r in rows.open_runs(connection, monitor_id)]
            matched = None
            if signal.checkin_id is not None:
                found = rows.run(connection, monitor_id, signal.checkin_id)
                matched = None if found is None else _run(found)
            step = machine.check_in(
                monitor,
                open_runs,
                matched,
                signal,
                uuid.uuid4().hex,
                outage_after=self.outage_after,
            )
            filed = self._store_step(connection, monitor_id, step)
        self._announce(step, filed)
        self._show(step.monitor, signal.at)
        if self.metrics is not None:
            self.metrics.checkins.labels(monitor.slug, signal.status).inc()
            self.metrics.last_checkin.labels(monitor.slug).set(signal.at.timestamp())
        assert step.checkin_id is not None  # noqa: S101 - check_in always names its run
        return monitor.slug, step.checkin_id

    # ------------------------------------------------------------ evaluation

    def evaluate(self) -> list[StateChange]:
        """Evaluate every monitor now, in one transaction; the scheduler calls this at least
        every 30 seconds."""
        now = self.clock()
        steps: list[tuple[Step, list[str]]] = []
        with self.store.write() as connection:
            running = rows.open_runs_by_monitor(connection)
            quiet: list[int] = []
            decided: list[tuple[int, Step]] = []
            for row in rows.listing(connection, lock=True):
                monitor_id = int(row.id)
                monitor = _monitor(row)
                open_runs = [_run(r) for r in running.get(monitor_id, [])]
                step = machine.evaluate(monitor, open_runs, now, outage_after=self.outage_after)
                if _only_time_passed(monitor, step):
                    quiet.append(monitor_id)  # the common case: one UPDATE for all of them
                    steps.append((step, []))
                else:
                    decided.append((monitor_id, step))
            rows.mark_evaluated(connection, quiet, now)
            kinds_filed = self._store_steps(connection, decided)
            steps += [(step, kinds) for (_, step), kinds in zip(decided, kinds_filed, strict=True)]
        changes: list[StateChange] = []
        for step, filed in steps:
            change = self._announce(step, filed)
            if change is not None:
                changes.append(change)
            self._show(step.monitor, now)
        return changes

    def pause(self, slug: str) -> MonitorView:
        return self._toggle(slug, machine.pause)

    def resume(self, slug: str) -> MonitorView:
        return self._toggle(slug, machine.resume)

    def _toggle(self, slug: str, action: Callable[[Monitor, datetime], Step]) -> MonitorView:
        now = self.clock()
        with self.store.write() as connection:
            row = rows.get(connection, slug, lock=True)
            if row is None:
                raise MonitorNotFound(f"monitor {slug!r} does not exist")
            step = action(_monitor(row), now)
            filed = self._store_step(connection, int(row.id), step)
            stored = rows.get(connection, slug)
            assert stored is not None  # noqa: S101
            view = self._view(connection, stored, now, DEFAULT_WINDOW)
        self._announce(step, filed)
        self._show(step.monitor, now)
        return view

    # ------------------------------------------------------------ reading

    def monitors(self, window: timedelta = DEFAULT_WINDOW) -> list[MonitorView]:
        now = self.clock()
        with self.store.read() as connection:
            found = rows.listing(connection)
            counts = rows.counts_since(connection, [int(r.id) for r in found], now - window)
            return [_view(row, now, window, counts.get(int(row.id), {})) for row in found]

    def monitor(
        self, slug: str, *, limit: int = 20, window: timedelta = DEFAULT_WINDOW
    ) -> MonitorDetail:
        now = self.clock()
        with self.store.read() as connection:
            row = rows.get(connection, slug)
            if row is None:
                raise MonitorNotFound(f"monitor {slug!r} does not exist")
            view = self._view(connection, row, now, window)
            runs = rows.recent_runs(connection, int(row.id), limit)
        return MonitorDetail(
            **view.model_dump(),
            ping_key=str(row.ping_key),
            checkins=[_checkin_view(r) for r in runs],
        )

    @staticmethod
    def _view(
        connection: Connection, row: Row[Any], now: datetime, window: timedelta
    ) -> MonitorView:
        counts = rows.counts_since(connection, [int(row.id)], now - window)
        return _view(row, now, window, counts.get(int(row.id), {}))

    # ------------------------------------------------------------ effects

    def _store_step(self, connection: Connection, monitor_id: int, step: Step) -> list[str]:
        """Write one decision; the kinds of issue it filed."""
        return self._store_steps(connection, [(monitor_id, step)])[0]

    def _store_steps(
        self, connection: Connection, decided: list[tuple[int, Step]]
    ) -> list[list[str]]:
        """Write decisions in a few statements whatever their number (an evaluation after an
        outage of many jobs misses them all at once); for each, the kinds of issue it filed."""
        now = self.clock()
        rows.store_runs_of(
            connection,
            [(monitor_id, _run_values(run)) for monitor_id, step in decided for run in step.runs],
        )
        rows.save_all(
            connection,
            [(monitor_id, _monitor_values(step.monitor, now)) for monitor_id, step in decided],
        )
        candidates = [
            candidate
            for _, step in decided
            for candidate in filing.candidates(step.monitor.slug, step.failures)
        ]
        if candidates:
            stored = issue_rows.by_fingerprint(connection, [k.fingerprint for k in candidates])
            plan = plan_filing(candidates, stored, recompute=False, scan_id=NO_SCAN, now=now)
            issue_rows.insert_all(connection, plan.inserts)
            issue_rows.update_all(connection, plan.updates)
            for category, severity in plan.outcome.new_kinds:
                service_metrics.ISSUES_FILED.labels(category, severity).inc()
            for category in plan.outcome.reopened_kinds:
                service_metrics.ISSUES_REOPENED.labels(category).inc()
        for step in (step for _, step in decided if step.resolved):
            resolution = RESOLUTION.format(count=step.monitor.config.recovery_threshold)
            mine = filing.monitor_fingerprints(step.monitor.slug)
            for issue_id in rows.open_issue_ids(connection, mine):
                issue_rows.resolve(connection, issue_id, resolution, now)
        self._count(decided)
        return [[failure.kind for failure in step.failures] for _, step in decided]

    def _count(self, decided: list[tuple[int, Step]]) -> None:
        if self.metrics is None:
            return
        for _, step in decided:
            slug = step.monitor.slug
            for run in step.runs:
                if run.status != machine.IN_PROGRESS and run.origin == "monitor":
                    self.metrics.checkins.labels(slug, run.status).inc(run.slots)
                if run.duration is not None and run.finished_at is not None:
                    self.metrics.duration.labels(slug).observe(run.duration)

    def _announce(self, step: Step, filed: list[str]) -> StateChange | None:
        monitor = step.monitor
        for kind in filed:
            _log({"event": "monitor_issue_filed", "monitor": monitor.slug, "kind": kind})
        if step.resolved:
            _log({"event": "monitor_recovered", "monitor": monitor.slug})
        if step.transition is None:
            return None
        previous, state = step.transition
        change = StateChange(
            monitor=monitor.slug,
            previous=previous,
            state=state,
            at=monitor.state_since,
            next_expected=monitor.next_expected,
            reason=_reason(step),
        )
        level = logging.WARNING if state in machine.FAILURE_KINDS else logging.INFO
        _log({"event": "monitor_state_changed", **change.model_dump(mode="json")}, level)
        if self.on_change is not None:
            try:
                self.on_change(change)
            except Exception:
                log.exception("broadcasting the state of monitor %s failed", monitor.slug)
        return change

    def _show(self, monitor: Monitor, now: datetime) -> None:
        if self.metrics is not None:
            self.metrics.show_state(monitor.slug, monitor.state, machine.seconds_late(monitor, now))


def _only_time_passed(monitor: Monitor, step: Step) -> bool:
    """Nothing but the evaluation time changed: no run, issue, state or expectation."""
    same = replace(step.monitor, evaluated_at=monitor.evaluated_at) == monitor
    return same and not (step.runs or step.failures or step.resolved or step.transition)


def _past(field: str, moment: datetime, now: datetime) -> datetime:
    """A time from a request: zoned, not in the future, and within the last `MAX_PAST`."""
    if moment.tzinfo is None:
        raise CheckinRefused(f"{field}: must carry a time zone (e.g. 2024-11-19T02:00:00Z)")
    if moment > now:
        raise CheckinRefused(f"{field}: must not be in the future")
    if moment < now - MAX_PAST:
        raise CheckinRefused(f"{field}: more than {MAX_PAST.days} days ago")
    return moment.astimezone(UTC)


def _log(fields: dict[str, Any], level: int = logging.INFO) -> None:
    log.log(level, json.dumps(fields))


def _reason(step: Step) -> str | None:
    for run in reversed(step.runs):
        if run.excerpt and run.status in (machine.UNKNOWN, machine.MISSED):
            return run.excerpt
    return step.failures[-1].detail if step.failures else None


# ---------------------------------------------------------------- rows <-> the machine's values


def _monitor(row: Row[Any]) -> Monitor:
    return Monitor(
        slug=str(row.slug),
        config=parse_monitor_config(json.loads(row.config)),
        state=str(row.state),
        state_since=utc(row.state_since),
        evaluated_at=utc(row.evaluated_at),
        next_expected=as_utc(row.next_expected),
        last_outcome=row.last_outcome,
        paused=bool(row.paused),
        last_checkin_at=as_utc(row.last_checkin_at),
        consecutive_failures=int(row.consecutive_failures),
        consecutive_ok=int(row.consecutive_ok),
        incident=bool(row.incident),
    )


def _monitor_values(monitor: Monitor, now: datetime) -> dict[str, Any]:
    return {
        "config": json.dumps(monitor.config.to_json()),
        "state": monitor.state,
        "state_since": monitor.state_since,
        "last_outcome": monitor.last_outcome,
        "paused": monitor.paused,
        "next_expected": monitor.next_expected,
        "evaluated_at": monitor.evaluated_at,
        "last_checkin_at": monitor.last_checkin_at,
        "consecutive_failures": monitor.consecutive_failures,
        "consecutive_ok": monitor.consecutive_ok,
        "incident": monitor.incident,
        "updated_at": now,
    }


def _run(row: Row[Any]) -> Run:
    return Run(
        checkin_id=str(row.checkin_id),
        status=str(row.status),
        at=utc(row.at),
        slot=as_utc(row.slot),
        started_at=as_utc(row.started_at),
        finished_at=as_utc(row.finished_at),
        duration=row.duration,
        slots=int(row.slots),
        origin=str(row.origin),
        exit_status=row.exit_status,
        excerpt=row.excerpt,
    )


def _run_values(run: Run) -> dict[str, Any]:
    return {
        "checkin_id": run.checkin_id,
        "status": run.status,
        "at": run.at,
        "slot": run.slot,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "duration": run.duration,
        "slots": run.slots,
        "origin": run.origin,
        "exit_status": run.exit_status,
        "excerpt": run.excerpt,
    }


def _view(row: Row[Any], now: datetime, window: timedelta, counts: dict[str, int]) -> MonitorView:
    monitor = _monitor(row)
    return MonitorView(
        slug=monitor.slug,
        state=monitor.state,
        state_since=monitor.state_since,
        paused=monitor.paused,
        origin=str(row.origin),
        config=monitor.config.to_json(),
        next_expected=monitor.next_expected,
        last_checkin_at=monitor.last_checkin_at,
        last_outcome=monitor.last_outcome,
        consecutive_failures=monitor.consecutive_failures,
        consecutive_ok=monitor.consecutive_ok,
        incident=monitor.incident,
        seconds_late=machine.seconds_late(monitor, now),
        window_hours=window / timedelta(hours=1),
        counts=counts,
    )


def _checkin_view(row: Row[Any]) -> CheckinView:
    return CheckinView(**_run_values(_run(row)))
