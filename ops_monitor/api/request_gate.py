"""The gate every HTTP request passes before any route sees it: the token, then the body's size.

FastAPI reads and parses a route's body before it runs the route's dependencies, so a token
checked by a dependency comes too late: a stranger's malformed JSON got 400 instead of 401, and
a stranger's 64 MiB body was read whole before being refused. Here the token is checked on the
headers alone (401 before a byte of the body is read), and the body is counted while it streams
in: a declared `Content-Length` over the limit is refused at once, and a chunked body is cut off
(413) the moment it passes the limit, so the server never holds more than the limit.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from starlette.datastructures import Headers
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ops_monitor.api.auth import UNAUTHORIZED_MESSAGE, token_ok

OPEN_PATHS = frozenset({"/healthz"})
"""Paths that never need the token (a load balancer's probe)."""


class SelfGuardedPaths:
    """Paths whose routes check credentials of their own (a console session cookie, a
    monitor's ping key), so the gate lets them through without the bearer token. The body limit
    still applies to them."""

    def __init__(self) -> None:
        self._exact: set[str] = set()
        self._patterns: list[re.Pattern[str]] = []

    def add_exact(self, *paths: str) -> None:
        self._exact.update(paths)

    def add_prefix(self, prefix: str) -> None:
        self._patterns.append(re.compile(re.escape(prefix.rstrip("/")) + "(?:/.*)?$"))

    def add_routes(self, routes: Iterable[BaseRoute]) -> None:
        """Every HTTP route of a router, by the same pattern the router matches it with."""
        self._patterns.extend(route.path_regex for route in routes if isinstance(route, Route))

    def __call__(self, path: str) -> bool:
        return path in self._exact or any(pattern.match(path) for pattern in self._patterns)


@dataclass(frozen=True)
class BodyLimits:
    """The largest body each path accepts, in bytes; `default` for every other path."""

    default: int
    by_path: Mapping[str, int]

    def for_path(self, path: str) -> int:
        return self.by_path.get(path, self.default)


ErrorResponder = Callable[[int, str, Mapping[str, str]], ASGIApp]


class RequestGate:
    """ASGI middleware: 401 without a valid token (except on `OPEN_PATHS` and the `self_guarded`
    paths: console pages, the cron monitors' pings, whose key is their credential), 413 for a
    body over its path's limit; WebSocket handshakes pass through (the broadcast route checks its
    own)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        token: Callable[[], str | None],
        limits: BodyLimits,
        respond: ErrorResponder,
        self_guarded: Callable[[str], bool] = lambda path: False,
    ) -> None:
        self.app = app
        self.token = token
        self.self_guarded = self_guarded
        self.limits = limits
        self.respond = respond

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        path = scope["path"]
        if not (path in OPEN_PATHS or token_ok(self.token(), headers) or self.self_guarded(path)):
            await self._refuse(scope, receive, send, 401, UNAUTHORIZED_MESSAGE)
            return
        limit = self.limits.for_path(path)
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            await self._refuse(scope, receive, send, 413, too_large(limit))
            return
        await _LimitedBody(self.app, limit, self.respond)(scope, receive, send)

    async def _refuse(
        self, scope: Scope, receive: Receive, send: Send, status: int, message: str
    ) -> None:
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else {}
        # The body is left unread: the server closes the connection rather than drain it.
        await self.respond(status, message, {**headers, "Connection": "close"})(
            scope, receive, send
        )


def too_large(limit: int) -> str:
    return f"request body exceeds the {limit}-byte limit"


class _LimitedBody:
    """One request whose body may not exceed `limit`: past it, answer 413 ourselves, tell the
    route the client left (so it stops reading) and drop whatever it still tries to send."""

    def __init__(self, app: ASGIApp, limit: int, respond: ErrorResponder) -> None:
        self.app = app
        self.limit = limit
        self.respond = respond
        self.received = 0
        self.refused = False
        self.started = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def counting_receive() -> Message:
            if self.refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                self.received += len(message.get("body", b""))
                if self.received > self.limit and not self.started:
                    self.refused = True
                    await self.respond(413, too_large(self.limit), {"Connection": "close"})(
                        scope, receive, send
                    )
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            if not self.refused:
                self.started = True
                await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except Exception:
            if not self.refused:
                raise
            # The route gave up on the body we cut off; the client has its 413 already.
