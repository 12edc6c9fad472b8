"""Bearer-token guard: when a token is configured every route but `/healthz` requires it.

One comparison for HTTP and WebSocket alike; a WebSocket client may pass the token as `?token=`
because browsers cannot set headers on a WebSocket handshake.
"""

from __future__ import annotations

import secrets

from fastapi import WebSocketException, status
from starlette.requests import HTTPConnection

from ops_monitor.api.session import current_session


class Unauthorized(Exception):
    """Missing or wrong bearer token; answered with 401 by the error handlers."""


def _presented_token(connection: HTTPConnection) -> str | None:
    header = connection.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


def _token_ok(expected: str | None, presented: str | None) -> bool:
    if not expected:
        return True
    return presented is not None and secrets.compare_digest(presented.encode(), expected.encode())


def require_token(connection: HTTPConnection) -> None:
    if not _token_ok(connection.app.state.token, _presented_token(connection)):
        raise Unauthorized("a valid bearer token is required (Authorization: Bearer <token>)")


def require_websocket_token(connection: HTTPConnection) -> None:
    presented = _presented_token(connection) or connection.query_params.get("token")
    if not _token_ok(connection.app.state.token, presented):
        raise WebSocketException(status.WS_1008_POLICY_VIOLATION, "a valid token is required")


def require_token_or_session(connection: HTTPConnection) -> None:
    """For pages a browser opens (`/docs`): the bearer token, or a console session cookie."""
    if _token_ok(connection.app.state.token, _presented_token(connection)):
        return
    if current_session(connection) is None:
        raise Unauthorized("a valid bearer token or a console session is required (GET /login)")
