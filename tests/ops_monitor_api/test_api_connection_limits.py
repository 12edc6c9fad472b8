"""`ops-monitor serve` closes idle and trickling connections, and refuses those over its limit."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from websockets.sync.client import connect

from ops_monitor.api.connections import server_limits

from .conftest import app_with_double
from .live_server import LiveServer, live_server

PATIENCE = 30  # seconds a test waits on a socket before it fails


@pytest.fixture
def limited(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[LiveServer]:
    keep_alive, max_connections = request.param
    app, _ = app_with_double(tmp_path)
    with live_server(app, **server_limits(keep_alive, max_connections)) as server:
        yield server


def _connect(server: LiveServer) -> socket.socket:
    host, port = server.url.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=PATIENCE)


def _closed_by_server(connection: socket.socket) -> bool:
    """Wait until the server closes the connection (True) or sends something (False)."""
    try:
        return connection.recv(1024) == b""
    except ConnectionResetError:
        return True


def _healthz(connection: socket.socket) -> bytes:
    connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    return connection.recv(1024).split(b"\r\n", 1)[0]


@pytest.mark.parametrize("limited", [(1, 100)], indirect=True)
def test_a_connection_that_never_sends_a_request_is_closed(limited: LiveServer) -> None:
    with _connect(limited) as idle:
        assert _closed_by_server(idle)


@pytest.mark.parametrize("limited", [(1, 100)], indirect=True)
def test_a_request_head_sent_a_byte_at_a_time_is_cut_off(limited: LiveServer) -> None:
    with _connect(limited) as trickle:
        trickle.sendall(b"GET /healthz HTTP/1.1\r\n")
        trickle.settimeout(0.3)
        closed = False
        for _ in range(PATIENCE * 3):  # one header byte every 0.3 s, until the server hangs up
            try:
                trickle.sendall(b"X")
                closed = trickle.recv(1024) == b""
            except TimeoutError:
                continue
            except (BrokenPipeError, ConnectionResetError):
                closed = True
            break

    assert closed


@pytest.mark.parametrize("limited", [(1, 100)], indirect=True)
def test_a_keep_alive_connection_serves_requests_then_closes_when_idle(
    limited: LiveServer,
) -> None:
    with _connect(limited) as client:
        first, second = _healthz(client), _healthz(client)

        assert (first, second) == (b"HTTP/1.1 200 OK", b"HTTP/1.1 200 OK")
        assert _closed_by_server(client)


@pytest.mark.parametrize("limited", [(60, 3)], indirect=True)
def test_over_the_limit_the_oldest_idle_connection_gives_way(limited: LiveServer) -> None:
    with ExitStack() as stack:
        oldest, *others = [stack.enter_context(_connect(limited)) for _ in range(3)]
        _healthz(others[0])  # the others are in use too, then idle again; the oldest never was
        newcomer = stack.enter_context(_connect(limited))

        answer = _healthz(newcomer)

        assert answer == b"HTTP/1.1 200 OK"
        assert _closed_by_server(oldest)
        assert _healthz(others[1]) == b"HTTP/1.1 200 OK"


@pytest.mark.parametrize("limited", [(60, 2)], indirect=True)
def test_over_the_limit_with_no_idle_connection_a_new_one_is_refused(
    limited: LiveServer,
) -> None:
    url = limited.ws_url + "/api/ops/broadcast"
    # subscribers are busy for as long as they stay
    with connect(url), connect(url), _connect(limited) as extra:
        refused = _closed_by_server(extra)

    assert refused


def test_serve_passes_its_limits_to_uvicorn() -> None:
    from ops_monitor.config import Settings

    settings = Settings.load(
        environ={"OPS_MONITOR_KEEP_ALIVE_TIMEOUT_SECONDS": "7", "OPS_MONITOR_MAX_CONNECTIONS": "50"}
    )
    options = server_limits(settings.keep_alive_timeout_seconds, settings.max_connections)

    assert (options["timeout_keep_alive"], options["http"].max_connections) == (7, 50)
    assert (Settings().keep_alive_timeout_seconds, Settings().max_connections) == (5, 1000)
