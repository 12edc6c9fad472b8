"""Bearer-token guard: when a token is configured every route but `/healthz` requires it.

HTTP requests are checked by `RequestGate` on their headers, before any body is read. A WebSocket
client (a browser cannot set headers on a handshake) presents a short-lived single-use ticket from
`POST /api/ops/broadcast/ticket` as `?ticket=`, or, still accepted, the token itself as `?token=`
(which the server's log redacts, but proxies and browser history may keep: prefer the ticket).
"""

from __future__ import annotations

import secrets

from fastapi import WebSocketException, status
from starlette.datastructures import Headers
from starlette.requests import HTTPConnection

from ops_monitor.api.tickets import TicketBook

UNAUTHORIZED_MESSAGE = "a valid bearer token is required (Authorization: Bearer <token>)"


def presented_token(headers: Headers) -> str | None:
    header = headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


def same_token(expected: str | None, presented: str | None) -> bool:
    if not expected:
        return True
    return presented is not None and secrets.compare_digest(presented.encode(), expected.encode())


def token_ok(expected: str | None, headers: Headers) -> bool:
    return same_token(expected, presented_token(headers))


def require_websocket_token(connection: HTTPConnection) -> None:
    expected: str | None = connection.app.state.token
    if not expected:
        return
    ticket = connection.query_params.get("ticket")
    if ticket is not None:
        tickets: TicketBook = connection.app.state.tickets
        if tickets.redeem(ticket):
            return
    else:
        presented = presented_token(connection.headers) or connection.query_params.get("token")
        if same_token(expected, presented):
            return
    raise WebSocketException(status.WS_1008_POLICY_VIOLATION, "a valid token or ticket is required")
