"""The monitor binding: what apps and the `readiness` package use to talk to a running monitor.

It speaks HTTP only and imports nothing else from `ops_monitor`, so a caller depends on this
module alone and never on the service's database. Results are small frozen dataclasses parsed
from the JSON the API returns. Reads (GETs) are retried with exponential backoff because repeating
them is harmless; writes are sent once, since a retried scan or push could happen twice.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Self
from urllib.parse import quote

import httpx

TOKEN_ENV = "OPS_MONITOR_TOKEN"  # noqa: S105 - the variable's name, not a secret
DEFAULT_TIMEOUT = 10.0
SCAN_TIMEOUT = 300.0  # a full scan of a large window takes a while; reads stay quick
RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})


class MonitorClientError(Exception):
    """Base of everything this client raises."""


class MonitorUnavailable(MonitorClientError):
    """The monitor could not be reached (connection refused, timeout, DNS) after any retries."""


class MonitorError(MonitorClientError):
    """The monitor answered with an error status; `message` is its `{"error": ...}` text."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"monitor answered {status}: {message}")
        self.status = status
        self.message = message


class MonitorBusy(MonitorError):
    """A scan was requested while another one runs (HTTP 409)."""

    def __init__(self, message: str, running_scan_id: int | None) -> None:
        super().__init__(409, message)
        self.running_scan_id = running_scan_id


# ---------------------------------------------------------------- results


def _time(value: Any) -> datetime | None:
    return None if value is None else datetime.fromisoformat(str(value))


def _required_time(value: Any) -> datetime:
    return datetime.fromisoformat(str(value))


@dataclass(frozen=True)
class Scan:
    """One scan's record."""

    id: int
    scope: str
    status: str
    trigger: str
    started_at: datetime
    finished_at: datetime | None
    logs_processed: int
    issues_found: int
    issues_filed: int
    issues_reopened: int
    malformed_lines: int = 0
    error: str | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        return cls(
            id=int(data["id"]),
            scope=str(data["scope"]),
            status=str(data["status"]),
            trigger=str(data.get("trigger", "")),
            started_at=_required_time(data["started_at"]),
            finished_at=_time(data.get("finished_at")),
            logs_processed=int(data.get("logs_processed", 0)),
            issues_found=int(data.get("issues_found", 0)),
            issues_filed=int(data.get("issues_filed", 0)),
            issues_reopened=int(data.get("issues_reopened", 0)),
            malformed_lines=int(data.get("malformed_lines", 0)),
            error=data.get("error"),
        )


@dataclass(frozen=True)
class Issue:
    """One open (or resolved) problem the monitor filed."""

    id: int
    fingerprint: str
    title: str
    category: str
    severity: str
    status: str
    source: str
    occurrences: int
    first_seen: datetime
    last_seen: datetime
    samples: tuple[str, ...] = ()
    resolution: str | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        return cls(
            id=int(data["id"]),
            fingerprint=str(data["fingerprint"]),
            title=str(data["title"]),
            category=str(data["category"]),
            severity=str(data["severity"]),
            status=str(data["status"]),
            source=str(data.get("source", "")),
            occurrences=int(data.get("occurrences", 0)),
            first_seen=_required_time(data["first_seen"]),
            last_seen=_required_time(data["last_seen"]),
            samples=tuple(str(s) for s in data.get("samples", ())),
            resolution=data.get("resolution"),
        )


@dataclass(frozen=True)
class PushResult:
    """What the monitor did with a pushed batch."""

    accepted: int
    malformed: int
    malformed_samples: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        return cls(
            accepted=int(data["accepted"]),
            malformed=int(data.get("malformed", 0)),
            malformed_samples=tuple(str(s) for s in data.get("malformed_samples", ())),
        )


@dataclass(frozen=True)
class CronSchedule:
    """One schedule's health as `GET /api/ops/cron` reports it; unknown fields stay in `raw`."""

    name: str
    expression: str
    scope: str
    next_run: datetime | None
    last_run: datetime | None
    last_outcome: str | None
    late: bool
    last_success: datetime | None = None
    last_scan_id: int | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        return cls(
            name=str(data.get("name", "")),
            expression=str(data.get("expression", data.get("cron", ""))),
            scope=str(data.get("scope", "")),
            next_run=_time(data.get("next_run")),
            last_run=_time(data.get("last_run")),
            last_outcome=data.get("last_outcome"),
            late=bool(data.get("late", False)),
            last_success=_time(data.get("last_success")),
            last_scan_id=None if data.get("last_scan_id") is None else int(data["last_scan_id"]),
            raw=dict(data),
        )


@dataclass(frozen=True)
class Health:
    status: str
    running_scan_id: int | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        running = data.get("running_scan_id")
        return cls(
            status=str(data["status"]), running_scan_id=None if running is None else int(running)
        )


@dataclass(frozen=True)
class CronCheckin:
    """One run of a monitored job (or an expected run that did not come)."""

    checkin_id: str
    status: str
    at: datetime
    slot: datetime | None = None
    duration: float | None = None
    slots: int = 1
    origin: str = ""
    exit_status: int | None = None
    excerpt: str | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        return cls(
            checkin_id=str(data["checkin_id"]),
            status=str(data["status"]),
            at=_required_time(data["at"]),
            slot=_time(data.get("slot")),
            duration=None if data.get("duration") is None else float(data["duration"]),
            slots=int(data.get("slots", 1)),
            origin=str(data.get("origin", "")),
            exit_status=None if data.get("exit_status") is None else int(data["exit_status"]),
            excerpt=data.get("excerpt"),
        )


@dataclass(frozen=True)
class CronMonitor:
    """A cron monitor as `GET /api/ops/monitors[/{slug}]` reports it. `ping_key` is set when the
    answer carries it (a declaration, one monitor's detail); `counts` are runs by status within
    `window_hours`; unknown fields stay in `raw`."""

    slug: str
    state: str
    paused: bool
    config: Mapping[str, Any]
    next_expected: datetime | None
    last_checkin_at: datetime | None
    last_outcome: str | None
    counts: Mapping[str, int]
    window_hours: float
    seconds_late: float = 0.0
    ping_key: str | None = None
    created: bool | None = None
    checkins: tuple[CronCheckin, ...] = ()
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        return cls(
            slug=str(data["slug"]),
            state=str(data["state"]),
            paused=bool(data.get("paused", False)),
            config=dict(data.get("config", {})),
            next_expected=_time(data.get("next_expected")),
            last_checkin_at=_time(data.get("last_checkin_at")),
            last_outcome=data.get("last_outcome"),
            counts={str(k): int(v) for k, v in dict(data.get("counts", {})).items()},
            window_hours=float(data.get("window_hours", 24)),
            seconds_late=float(data.get("seconds_late", 0)),
            ping_key=data.get("ping_key"),
            created=data.get("created"),
            checkins=tuple(CronCheckin.from_json(c) for c in data.get("checkins", ())),
            raw=dict(data),
        )


def _checkin_body(
    status: str,
    checkin_id: str | None,
    duration: float | None,
    monitor_config: Mapping[str, Any] | None,
    timestamp: datetime | None,
) -> dict[str, Any]:
    body: dict[str, Any] = {"status": status}
    if checkin_id is not None:
        body["checkin_id"] = checkin_id
    if duration is not None:
        body["duration"] = duration
    if monitor_config is not None:
        body["monitor_config"] = dict(monitor_config)
    if timestamp is not None:
        body["timestamp"] = timestamp.isoformat()
    return body


def _declaration(monitor_config: Mapping[str, Any], since: datetime | None) -> dict[str, Any]:
    body: dict[str, Any] = {"monitor_config": dict(monitor_config)}
    if since is not None:
        body["since"] = since.isoformat()
    return body


def _monitor_path(slug: str, *rest: str) -> str:
    return "/".join(["/api/ops/monitors", quote(slug, safe=""), *rest])


def _cron_schedules(data: Any) -> list[CronSchedule]:
    items = data.get("schedules", []) if isinstance(data, Mapping) else data
    return [CronSchedule.from_json(item) for item in items]


# ---------------------------------------------------------------- shared request logic


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter for idempotent reads: `base * 2**attempt`, capped."""

    attempts: int = 3
    base_delay: float = 0.2
    max_delay: float = 5.0

    def delay(self, attempt: int) -> float:
        backoff: float = min(self.max_delay, self.base_delay * 2.0**attempt)
        return backoff * (0.5 + random.random() / 2)  # noqa: S311


def _headers(token: str | None) -> dict[str, str]:
    token = token if token is not None else os.environ.get(TOKEN_ENV) or None
    return {"Authorization": f"Bearer {token}"} if token else {}


def _issue_params(
    limit: int,
    offset: int,
    status: str | None,
    severity: str | None,
    category: str | None,
    source: str | None,
) -> dict[str, str | int]:
    filters = {"status": status, "severity": severity, "category": category, "source": source}
    return {"limit": limit, "offset": offset} | {k: v for k, v in filters.items() if v is not None}


def _scan_body(scope: str, filters: Mapping[str, Any] | None) -> dict[str, Any]:
    return {"scope": scope, "filters": dict(filters or {})}


def _json_array(records: Iterable[Mapping[str, Any]]) -> bytes:
    """One encoder call for the whole batch: much cheaper than a call per record."""
    return json.dumps([dict(r) for r in records], default=str, separators=(",", ":")).encode()


def _check(response: httpx.Response) -> Any:
    """The decoded JSON body of a success, or the typed error for a failure."""
    if response.is_success:
        return response.json()
    try:
        body = response.json()
    except ValueError:
        body = {}
    message = str(body.get("error") or response.reason_phrase) if isinstance(body, dict) else ""
    if response.status_code == 409:
        running = body.get("running_scan_id") if isinstance(body, dict) else None
        raise MonitorBusy(message, None if running is None else int(running))
    raise MonitorError(response.status_code, message or response.reason_phrase)


def _should_retry(response: httpx.Response) -> bool:
    return response.status_code in RETRYABLE_STATUSES


class OpsMonitorClient:
    """A blocking client; use it as a context manager or call `close()`.

    >>> with OpsMonitorClient("http://127.0.0.1:8787") as monitor:  # doctest: +SKIP
    ...     monitor.scan("incremental").issues_filed
    """

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._retry = retry or RetryPolicy()
        self._http = httpx.Client(
            base_url=base_url, headers=_headers(token), timeout=timeout, transport=transport
        )

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            return self._http.request(method, path, **kwargs)
        except httpx.TransportError as error:
            raise MonitorUnavailable(f"{method} {path}: {error or type(error).__name__}") from error

    def _get(self, path: str, params: Mapping[str, str | int] | None = None) -> Any:
        for attempt in range(self._retry.attempts):
            last = attempt == self._retry.attempts - 1
            try:
                response = self._send("GET", path, params=params)
            except MonitorUnavailable:
                if last:
                    raise
            else:
                if last or not _should_retry(response):
                    return _check(response)
            time.sleep(self._retry.delay(attempt))
        raise AssertionError("unreachable")  # pragma: no cover

    def scan(self, scope: str = "incremental", filters: Mapping[str, Any] | None = None) -> Scan:
        """Run a scan and wait for its result; raises `MonitorBusy` while another scan runs."""
        response = self._send(
            "POST", "/api/ops/scan", json=_scan_body(scope, filters), timeout=SCAN_TIMEOUT
        )
        return Scan.from_json(_check(response))

    def recent_scans(self, limit: int = 20) -> list[Scan]:
        return [Scan.from_json(s) for s in self._get("/api/ops/scans", {"limit": limit})]

    def open_issues(
        self,
        limit: int = 50,
        offset: int = 0,
        *,
        status: str | None = None,
        severity: str | None = None,
        category: str | None = None,
        source: str | None = None,
    ) -> list[Issue]:
        params = _issue_params(limit, offset, status, severity, category, source)
        return [Issue.from_json(i) for i in self._get("/api/ops/issues", params)]

    def resolve_issue(self, issue_id: int, resolution: str) -> Issue:
        response = self._send(
            "POST", f"/api/ops/issues/{issue_id}/resolve", json={"resolution": resolution}
        )
        return Issue.from_json(_check(response))

    def push_logs(self, records: Iterable[Mapping[str, Any]]) -> PushResult:
        """Send records (dicts with timestamp, source, level, message, attributes) in one batch."""
        response = self._send(
            "POST",
            "/api/ops/logs",
            content=_json_array(records),
            headers={"Content-Type": "application/json"},
        )
        return PushResult.from_json(_check(response))

    def cron_status(self) -> list[CronSchedule]:
        return _cron_schedules(self._get("/api/ops/cron"))

    def health(self) -> Health:
        return Health.from_json(self._get("/healthz"))

    # ------------------------------------------------------------ cron monitors

    def declare_monitor(
        self, slug: str, monitor_config: Mapping[str, Any], *, since: datetime | None = None
    ) -> CronMonitor:
        """Create or update a monitor (Sentry's `monitor_config`); the answer has its ping key.
        Idempotent (a PUT), so it is retried like a read."""
        return CronMonitor.from_json(
            self._idempotent("PUT", _monitor_path(slug), _declaration(monitor_config, since))
        )

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
        """Record a check-in (`in_progress`, `ok`, `error`); returns the check-in id."""
        body = _checkin_body(status, checkin_id, duration, monitor_config, timestamp)
        response = self._send("POST", _monitor_path(slug, "checkins"), json=body)
        return str(_check(response)["checkin_id"])

    def monitors(self, window_hours: float = 24) -> list[CronMonitor]:
        found = self._get("/api/ops/monitors", {"window_hours": str(window_hours)})
        return [CronMonitor.from_json(m) for m in found]

    def monitor(self, slug: str, *, limit: int = 20, window_hours: float = 24) -> CronMonitor:
        params: dict[str, str | int] = {"limit": limit, "window_hours": str(window_hours)}
        return CronMonitor.from_json(self._get(_monitor_path(slug), params))

    def pause_monitor(self, slug: str) -> CronMonitor:
        return CronMonitor.from_json(_check(self._send("POST", _monitor_path(slug, "pause"))))

    def resume_monitor(self, slug: str) -> CronMonitor:
        return CronMonitor.from_json(_check(self._send("POST", _monitor_path(slug, "resume"))))

    def evaluate_monitors(self) -> list[Mapping[str, Any]]:
        """Evaluate every monitor now; the state changes that made."""
        return list(_check(self._send("POST", "/api/ops/monitors/evaluate")))

    def _idempotent(self, method: str, path: str, body: Any) -> Any:
        for attempt in range(self._retry.attempts):
            last = attempt == self._retry.attempts - 1
            try:
                response = self._send(method, path, json=body)
            except MonitorUnavailable:
                if last:
                    raise
            else:
                if last or not _should_retry(response):
                    return _check(response)
            time.sleep(self._retry.delay(attempt))
        raise AssertionError("unreachable")  # pragma: no cover


class AsyncOpsMonitorClient:
    """The same calls as `OpsMonitorClient`, awaitable; use `async with` or `await aclose()`."""

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._retry = retry or RetryPolicy()
        self._http = httpx.AsyncClient(
            base_url=base_url, headers=_headers(token), timeout=timeout, transport=transport
        )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            return await self._http.request(method, path, **kwargs)
        except httpx.TransportError as error:
            raise MonitorUnavailable(f"{method} {path}: {error or type(error).__name__}") from error

    async def _get(self, path: str, params: Mapping[str, str | int] | None = None) -> Any:
        for attempt in range(self._retry.attempts):
            last = attempt == self._retry.attempts - 1
            try:
                response = await self._send("GET", path, params=params)
            except MonitorUnavailable:
                if last:
                    raise
            else:
                if last or not _should_retry(response):
                    return _check(response)
            await asyncio.sleep(self._retry.delay(attempt))
        raise AssertionError("unreachable")  # pragma: no cover

    async def scan(
        self, scope: str = "incremental", filters: Mapping[str, Any] | None = None
    ) -> Scan:
        response = await self._send(
            "POST", "/api/ops/scan", json=_scan_body(scope, filters), timeout=SCAN_TIMEOUT
        )
        return Scan.from_json(_check(response))

    async def recent_scans(self, limit: int = 20) -> list[Scan]:
        return [Scan.from_json(s) for s in await self._get("/api/ops/scans", {"limit": limit})]

    async def open_issues(
        self,
        limit: int = 50,
        offset: int = 0,
        *,
        status: str | None = None,
        severity: str | None = None,
        category: str | None = None,
        source: str | None = None,
    ) -> list[Issue]:
        params = _issue_params(limit, offset, status, severity, category, source)
        return [Issue.from_json(i) for i in await self._get("/api/ops/issues", params)]

    async def resolve_issue(self, issue_id: int, resolution: str) -> Issue:
        response = await self._send(
            "POST", f"/api/ops/issues/{issue_id}/resolve", json={"resolution": resolution}
        )
        return Issue.from_json(_check(response))

    async def push_logs(self, records: Iterable[Mapping[str, Any]]) -> PushResult:
        response = await self._send(
            "POST",
            "/api/ops/logs",
            content=_json_array(records),
            headers={"Content-Type": "application/json"},
        )
        return PushResult.from_json(_check(response))

    async def cron_status(self) -> list[CronSchedule]:
        return _cron_schedules(await self._get("/api/ops/cron"))

    async def health(self) -> Health:
        return Health.from_json(await self._get("/healthz"))

    async def declare_monitor(
        self, slug: str, monitor_config: Mapping[str, Any], *, since: datetime | None = None
    ) -> CronMonitor:
        response = await self._send(
            "PUT", _monitor_path(slug), json=_declaration(monitor_config, since)
        )
        return CronMonitor.from_json(_check(response))

    async def check_in(
        self,
        slug: str,
        status: str,
        *,
        checkin_id: str | None = None,
        duration: float | None = None,
        monitor_config: Mapping[str, Any] | None = None,
        timestamp: datetime | None = None,
    ) -> str:
        body = _checkin_body(status, checkin_id, duration, monitor_config, timestamp)
        response = await self._send("POST", _monitor_path(slug, "checkins"), json=body)
        return str(_check(response)["checkin_id"])

    async def monitors(self, window_hours: float = 24) -> list[CronMonitor]:
        found = await self._get("/api/ops/monitors", {"window_hours": str(window_hours)})
        return [CronMonitor.from_json(m) for m in found]

    async def monitor(self, slug: str, *, limit: int = 20, window_hours: float = 24) -> CronMonitor:
        params: dict[str, str | int] = {"limit": limit, "window_hours": str(window_hours)}
        return CronMonitor.from_json(await self._get(_monitor_path(slug), params))
