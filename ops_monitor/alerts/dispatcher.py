"""`AlertDispatcher`: after a scan commits, record what changed and alert the configured targets.

It runs on its own thread, so a scan never waits for (or fails because of) a webhook: the scan's
completion callback only queues a job. A job reconciles the issue history (`OnCallService.
reconcile`), and each new, regressed or escalating step it recorded becomes an event for every
target that wants it. A periodic pass does the same for changes made elsewhere (a CLI scan,
another replica), and recording a step is idempotent, so each step is alerted once.

Per target, an event is claimed by inserting its delivery row under a unique key (no target hears
the same event twice, even from two replicas), throttled per subject (an issue, a monitor), and
every delivery, throttled ones included, is recorded for `GET /api/ops/alerts/deliveries`.
"""

from __future__ import annotations

import json
import logging
import queue
import random
import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import httpx

from ops_monitor.alerts.events import AlertEvent, body_for, issue_event
from ops_monitor.alerts.rules import EVENTS, LEVELS, AlertRule
from ops_monitor.alerts.sender import RetryPolicy, send
from ops_monitor.oncall.service import OnCallService
from ops_monitor.store import Store
from ops_monitor.store import alert_deliveries as delivery_rows
from ops_monitor.views.issue_history import ALERTED_KINDS

log = logging.getLogger(__name__)

RECONCILE_EVERY_SECONDS = 30.0
_STOP = object()
_RECONCILE = object()


def utc_now() -> datetime:
    return datetime.now(UTC)


class AlertDispatcher:
    def __init__(
        self,
        rules: Sequence[AlertRule],
        store: Store,
        oncall: OnCallService,
        *,
        clock: Callable[[], datetime] = utc_now,
        policy: RetryPolicy | None = None,
        rng: random.Random | None = None,
        reconcile_every: float = RECONCILE_EVERY_SECONDS,
    ) -> None:
        self.rules = tuple(rules)
        self.store = store
        self.oncall = oncall
        self.clock = clock
        self.policy = policy or RetryPolicy()
        self.rng = rng or random.Random()  # noqa: S311 - jitter, not a secret
        self.reconcile_every = reconcile_every
        self._jobs: queue.Queue[object] = queue.Queue()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._client = httpx.Client()

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="alert-dispatcher", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stopping.set()
        self._jobs.put(_STOP)
        if self._thread is not None:
            self._thread.join(timeout)
        self._client.close()

    # ------------------------------------------------------------------ what others call
    def scan_committed(self, _result: object) -> None:
        """The scan's completion callback: queue a reconciliation, return at once."""
        self._jobs.put(_RECONCILE)

    def notify(self, event: str, payload: Mapping[str, Any]) -> bool:
        """Queue an event raised elsewhere (cron monitors); see `ops_monitor.alerts.notify`."""
        alert = event_from_payload(event, payload, self.clock())
        self._jobs.put(alert)
        return True

    def drain(self, timeout: float = 30.0) -> bool:
        """Wait until every job queued before this call is done (False if `timeout` passed
        first): for a caller that must see a scan's alerts recorded, as tests and shutdown do."""
        done = threading.Event()
        self._jobs.put(done)
        return done.wait(timeout)

    def deliver(self, event: AlertEvent) -> list[int]:
        """Send `event` to every target that wants it, now, on this thread; returns the ids of
        the deliveries recorded (none for targets that already had it)."""
        ids: list[int] = []
        for index, rule in enumerate(self.rules):
            if event.name != "test" and not rule.wants(event.name, event.level):
                continue
            delivery_id = self._deliver_to(index, rule, event)
            if delivery_id is not None:
                ids.append(delivery_id)
        return ids

    def reconcile_and_alert(self) -> int:
        """One pass: record history steps and alert on them; returns the steps recorded."""
        steps = self.oncall.reconcile()
        for step, issue in steps:
            if step.kind in ALERTED_KINDS:
                name = f"issue.{step.kind.value}"
                self.deliver(issue_event(name, issue, step.seq, step.at, step.detail))
        return len(steps)

    # ------------------------------------------------------------------ the thread
    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                job = self._jobs.get(timeout=self.reconcile_every)
            except queue.Empty:
                job = _RECONCILE
            if job is _STOP:
                return
            try:
                if job is _RECONCILE:
                    self.reconcile_and_alert()
                elif isinstance(job, AlertEvent):
                    self.deliver(job)
                elif isinstance(job, threading.Event):
                    job.set()
            except Exception:  # the database is down, a bug: log, keep the thread alive
                log.exception("alert dispatch failed; it is retried on the next pass")

    def _wait(self, seconds: float) -> bool:
        return not self._stopping.wait(seconds)

    def _deliver_to(self, index: int, rule: AlertRule, event: AlertEvent) -> int | None:
        now = self.clock()
        with self.store.write() as connection:
            throttled = (
                event.name != "test"
                and rule.throttle_seconds > 0
                and delivery_rows.sent_recently(
                    connection,
                    event.subject,
                    rule.target,
                    delivery_rows.throttle_start(now, rule.throttle_seconds),
                )
            )
            delivery_id = delivery_rows.claim(
                connection,
                event=event.name,
                subject=event.subject,
                dedupe_key=event.dedupe_key(index),
                target=rule.target,
                kind=rule.kind,
                status="throttled" if throttled else "pending",
                payload=json.dumps(body_for(rule.kind, event, 0), default=str),
                now=now,
            )
        if delivery_id is None or throttled:
            return delivery_id
        body = body_for(rule.kind, event, delivery_id)
        headers = {
            "x-ops-monitor-event": event.name,
            "x-ops-monitor-delivery": str(delivery_id),
            "idempotency-key": f"ops-monitor-delivery-{delivery_id}",
        }
        outcome = send(self._client, rule.url, body, headers, self.policy, self.rng, self._wait)
        with self.store.write() as connection:
            delivery_rows.finish(
                connection,
                delivery_id,
                status=outcome.status,
                attempts=outcome.attempts,
                response_status=outcome.response_status,
                error=outcome.error,
                now=self.clock(),
            )
        if outcome.status != "delivered":
            log.warning("alert %s to %s failed: %s", event.name, rule.target, outcome.error)
        return delivery_id


class BadAlertEvent(ValueError):
    """An event raised with a payload that cannot make an alert."""


def event_from_payload(event: str, payload: Mapping[str, Any], now: datetime) -> AlertEvent:
    if event not in EVENTS and event != "test":
        raise BadAlertEvent(f"unknown alert event {event!r} (known: {', '.join(EVENTS)})")
    subject, title = payload.get("subject"), payload.get("title")
    if not isinstance(subject, str) or not subject or not isinstance(title, str):
        raise BadAlertEvent(f"{event}: the payload needs `subject` and `title` strings")
    level = payload.get("level", "high")
    if level not in LEVELS:
        raise BadAlertEvent(f"{event}: level must be one of {', '.join(LEVELS)}")
    at = payload.get("at")
    moment = at if isinstance(at, datetime) else now
    rest = {
        k: v for k, v in payload.items() if k not in ("subject", "title", "level", "episode", "at")
    }
    return AlertEvent(
        name=event,
        subject=subject[:200],
        episode=str(payload.get("episode") or moment.isoformat()),
        level=level,
        title=title,
        at=moment,
        details=rest,
        link=payload.get("link") if isinstance(payload.get("link"), str) else None,
    )


def test_event(now: datetime) -> AlertEvent:
    return AlertEvent(
        name="test",
        subject="test",
        episode=now.isoformat(),
        level="low",
        title="ops-monitor test alert: this target is configured and reachable",
        at=now,
    )
