"""The monitor binding: what apps and the `readiness` package use to talk to a running monitor.

It speaks HTTP only and imports nothing else from `ops_monitor`, so a caller depends on this
module alone and never on the service's database. Results are small frozen dataclasses parsed
from the JSON the API returns. Reads (GETs) are retried with exponential backoff because repeating
them is harmless; writes are sent once, since a retried scan or push could happen twice.
Each call is described once (`Routes`, without I/O); the blocking and the async client send the
same descriptions.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, ParamSpec, Self, TypeVar, overload
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


def _cron_monitors(data: Any) -> list[CronMonitor]:
    return [CronMonitor.from_json(item) for item in data]


def _checkin_id(data: Any) -> str:
    return str(data["checkin_id"])


def _state_changes(data: Any) -> list[Mapping[str, Any]]:
    return [dict(item) for item in data]


def _checkin_body(
    status: str,
    checkin_id: str | None,
    duration: float | None,
    monitor_config: Mapping[str, Any] | None,
    timestamp: datetime | None,
) -> dict[str, Any]:
    body: dict[str, Any] = {"status": status}
    optional = {
        "checkin_id": checkin_id,
        "duration": duration,
        "monitor_config": None if monitor_config is None else dict(monitor_config),
        "timestamp": None if timestamp is None else timestamp.isoformat(),
    }
    return body | {name: value for name, value in optional.items() if value is not None}


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


# ---------------------------------------------------------------- each call, described once
# Sans I/O: a `Call` says what to send and how to read the answer; `Exchange` decides, attempt by
# attempt, between a result, an error and another try. The two clients below only move bytes.

_T = TypeVar("_T")
_P = ParamSpec("_P")
Filter = str | None
"""A filter of a listing: None leaves it out of the query."""


@dataclass(frozen=True)
class Call(Generic[_T]):
    """One request and how to decode its answer. A `retryable` call (an idempotent read) is
    tried again after a transport failure or a RETRYABLE_STATUSES answer; others are sent once."""

    method: str
    path: str
    decode: Callable[[Any], _T]
    retryable: bool = False
    params: Mapping[str, str | int] | None = None
    json: Any = None
    content: bytes | None = None
    headers: Mapping[str, str] | None = None
    timeout: float | None = None  # None: the client's own timeout

    def request(self) -> dict[str, Any]:
        """The keyword arguments of `httpx.Client.request` (and of the async one)."""
        options = {
            "params": self.params,
            "json": self.json,
            "content": self.content,
            "headers": self.headers,
            "timeout": self.timeout,
        }
        given = {name: value for name, value in options.items() if value is not None}
        return {"method": self.method, "url": self.path, **given}

    def unavailable(self, error: httpx.TransportError) -> MonitorUnavailable:
        failure = MonitorUnavailable(f"{self.method} {self.path}: {error or type(error).__name__}")
        failure.__cause__ = error
        return failure


@dataclass(frozen=True)
class Wait:
    """Send the call again after this many seconds."""

    seconds: float


class Exchange(Generic[_T]):
    """The attempts of one call under a retry policy, without I/O: feed it what each attempt
    got (a response, or the failure to get one); it answers the result, raises the typed error,
    or says how long to wait before the next attempt."""

    def __init__(self, call: Call[_T], retry: RetryPolicy) -> None:
        self.call = call
        self.retry = retry
        self.attempt = 0

    def after(self, got: httpx.Response | MonitorUnavailable) -> _T | Wait:
        attempt, self.attempt = self.attempt, self.attempt + 1
        final = not self.call.retryable or attempt >= self.retry.attempts - 1
        if isinstance(got, MonitorUnavailable):
            if final:
                raise got
        elif final or not _should_retry(got):
            return self.call.decode(_check(got))
        return Wait(self.retry.delay(attempt))


def _scans(data: Any) -> list[Scan]:
    return [Scan.from_json(s) for s in data]


def _issues(data: Any) -> list[Issue]:
    return [Issue.from_json(i) for i in data]


class Routes:
    """Every call the clients make: the one place a route, its parameters and its answer are
    written down. `OpsMonitorClient` and `AsyncOpsMonitorClient` expose each as a method."""

    @staticmethod
    def scan(scope: str = "incremental", filters: Mapping[str, Any] | None = None) -> Call[Scan]:
        """Run a scan and wait for its result; raises `MonitorBusy` while another scan runs."""
        body = _scan_body(scope, filters)
        return Call("POST", "/api/ops/scan", Scan.from_json, json=body, timeout=SCAN_TIMEOUT)

    @staticmethod
    def recent_scans(limit: int = 20) -> Call[list[Scan]]:
        return Call("GET", "/api/ops/scans", _scans, retryable=True, params={"limit": limit})

    @staticmethod
    def open_issues(
        limit: int = 50,
        offset: int = 0,
        *,
        status: Filter = None,
        severity: Filter = None,
        category: Filter = None,
        source: Filter = None,
    ) -> Call[list[Issue]]:
        params = _issue_params(limit, offset, status, severity, category, source)
        return Call("GET", "/api/ops/issues", _issues, retryable=True, params=params)

    @staticmethod
    def resolve_issue(issue_id: int, resolution: str) -> Call[Issue]:
        path = f"/api/ops/issues/{issue_id}/resolve"
        return Call("POST", path, Issue.from_json, json={"resolution": resolution})

    @staticmethod
    def push_logs(records: Iterable[Mapping[str, Any]]) -> Call[PushResult]:
        """Send records (dicts with timestamp, source, level, message, attributes) in one batch."""
        return Call(
            "POST",
            "/api/ops/logs",
            PushResult.from_json,
            content=_json_array(records),
            headers={"Content-Type": "application/json"},
        )

    @staticmethod
    def search_logs(**params: str | int) -> Call[dict[str, Any]]:
        """`GET /api/ops/logs`: one page `{records, next_cursor, searched_to}`, newest first;
        params as the route takes them (q, source, level, since, until, limit, cursor)."""
        return Call("GET", "/api/ops/logs", dict, retryable=True, params=params)

    @staticmethod
    def issue_detail(issue_id: int) -> Call[dict[str, Any]]:
        """`GET /api/ops/issues/{id}`: the issue with its history, timeline and latest records."""
        return Call("GET", f"/api/ops/issues/{issue_id}", dict, retryable=True)

    @staticmethod
    def cron_status() -> Call[list[CronSchedule]]:
        return Call("GET", "/api/ops/cron", _cron_schedules, retryable=True)

    @staticmethod
    def health() -> Call[Health]:
        return Call("GET", "/healthz", Health.from_json, retryable=True)

    @staticmethod
    def declare_monitor(
        slug: str, monitor_config: Mapping[str, Any], *, since: datetime | None = None
    ) -> Call[CronMonitor]:
        """Create or update a cron monitor (Sentry's `monitor_config`); the answer carries its
        ping key. Idempotent (a PUT), so retried like a read. `since` (past) declares that the
        check-ins recorded from then on are the job's whole history."""
        body: dict[str, Any] = {"monitor_config": dict(monitor_config)}
        if since is not None:
            body["since"] = since.isoformat()
        path = _monitor_path(slug)
        return Call("PUT", path, CronMonitor.from_json, retryable=True, json=body)

    @staticmethod
    def check_in(
        slug: str,
        status: str,
        *,
        checkin_id: str | None = None,
        duration: float | None = None,
        monitor_config: Mapping[str, Any] | None = None,
        timestamp: datetime | None = None,
    ) -> Call[str]:
        """Record a check-in (`in_progress`, `ok`, `error`); returns the check-in id, which a
        later `ok` or `error` passes to close that run."""
        body = _checkin_body(status, checkin_id, duration, monitor_config, timestamp)
        return Call("POST", _monitor_path(slug, "checkins"), _checkin_id, json=body)

    @staticmethod
    def monitors(window_hours: float = 24) -> Call[list[CronMonitor]]:
        """Every cron monitor, with its runs by status within the window."""
        params = {"window_hours": str(window_hours)}
        return Call("GET", "/api/ops/monitors", _cron_monitors, retryable=True, params=params)

    @staticmethod
    def monitor(slug: str, *, limit: int = 20, window_hours: float = 24) -> Call[CronMonitor]:
        """One cron monitor with its ping key and latest check-ins."""
        params: dict[str, str | int] = {"limit": limit, "window_hours": str(window_hours)}
        path = _monitor_path(slug)
        return Call("GET", path, CronMonitor.from_json, retryable=True, params=params)

    @staticmethod
    def pause_monitor(slug: str) -> Call[CronMonitor]:
        return Call("POST", _monitor_path(slug, "pause"), CronMonitor.from_json)

    @staticmethod
    def resume_monitor(slug: str) -> Call[CronMonitor]:
        return Call("POST", _monitor_path(slug, "resume"), CronMonitor.from_json)

    @staticmethod
    def evaluate_monitors() -> Call[list[Mapping[str, Any]]]:
        """Evaluate every cron monitor now; the state changes that made."""
        return Call("POST", "/api/ops/monitors/evaluate", _state_changes)


class _Route(Generic[_P, _T]):
    """A client method that sends the call `describe` builds from its arguments: the same
    description serves the blocking client (the method returns the result) and the async one
    (it returns an awaitable of the result)."""

    def __init__(self, describe: Callable[_P, Call[_T]]) -> None:
        self.describe = describe
        self.__doc__ = describe.__doc__

    @overload
    def __get__(self, client: None, owner: type[Any]) -> Self: ...
    @overload
    def __get__(self, client: OpsMonitorClient, owner: type[Any]) -> Callable[_P, _T]: ...
    @overload
    def __get__(
        self, client: AsyncOpsMonitorClient, owner: type[Any]
    ) -> Callable[_P, Awaitable[_T]]: ...
    def __get__(self, client: _Client[Any, Any] | None, owner: type[Any]) -> Any:
        if client is None:
            return self
        describe = self.describe

        def method(*args: _P.args, **kwargs: _P.kwargs) -> Any:
            return client._exchange(describe(*args, **kwargs))

        method.__name__ = describe.__name__
        method.__qualname__ = f"{type(client).__name__}.{describe.__name__}"
        method.__doc__ = describe.__doc__
        return method


# ---------------------------------------------------------------- the two transports

_TransportT = TypeVar("_TransportT")
_HttpT = TypeVar("_HttpT", httpx.Client, httpx.AsyncClient)


class _Client(Generic[_TransportT, _HttpT]):
    """What both clients hold: an httpx client with the token and timeout, and a retry policy.
    A subclass names its httpx client class and sends calls with it; its methods are `Routes`."""

    _http_class: type[_HttpT]

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        transport: _TransportT | None = None,
    ) -> None:
        self._retry = retry or RetryPolicy()
        options: dict[str, Any] = {"transport": transport, "timeout": timeout}
        self._http: _HttpT = self._http_class(base_url=base_url, headers=_headers(token), **options)

    def _exchange(self, call: Call[_T]) -> Any:
        raise NotImplementedError

    scan = _Route(Routes.scan)
    recent_scans = _Route(Routes.recent_scans)
    open_issues = _Route(Routes.open_issues)
    resolve_issue = _Route(Routes.resolve_issue)
    push_logs = _Route(Routes.push_logs)
    search_logs = _Route(Routes.search_logs)
    issue_detail = _Route(Routes.issue_detail)
    cron_status = _Route(Routes.cron_status)
    health = _Route(Routes.health)
    declare_monitor = _Route(Routes.declare_monitor)
    check_in = _Route(Routes.check_in)
    monitors = _Route(Routes.monitors)
    monitor = _Route(Routes.monitor)
    pause_monitor = _Route(Routes.pause_monitor)
    resume_monitor = _Route(Routes.resume_monitor)
    evaluate_monitors = _Route(Routes.evaluate_monitors)


class OpsMonitorClient(_Client[httpx.BaseTransport, httpx.Client]):
    """A blocking client; use it as a context manager or call `close()`.

    >>> with OpsMonitorClient("http://127.0.0.1:8787") as monitor:  # doctest: +SKIP
    ...     monitor.scan("incremental").issues_filed
    """

    _http_class = httpx.Client

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def _exchange(self, call: Call[_T]) -> _T:
        """Send `call`, retried as its description says; return its decoded answer."""
        exchange = Exchange(call, self._retry)
        while isinstance(step := exchange.after(self._attempt(call)), Wait):
            time.sleep(step.seconds)
        return step

    def _attempt(self, call: Call[Any]) -> httpx.Response | MonitorUnavailable:
        try:
            return self._http.request(**call.request())
        except httpx.TransportError as error:
            return call.unavailable(error)


class AsyncOpsMonitorClient(_Client[httpx.AsyncBaseTransport, httpx.AsyncClient]):
    """The same calls as `OpsMonitorClient`, awaitable; use `async with` or `await aclose()`."""

    _http_class = httpx.AsyncClient

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _exchange(self, call: Call[_T]) -> _T:
        """Send `call`, retried as its description says; return its decoded answer."""
        exchange = Exchange(call, self._retry)
        while isinstance(step := exchange.after(await self._attempt(call)), Wait):
            await asyncio.sleep(step.seconds)
        return step

    async def _attempt(self, call: Call[Any]) -> httpx.Response | MonitorUnavailable:
        try:
            return await self._http.request(**call.request())
        except httpx.TransportError as error:
            return call.unavailable(error)
