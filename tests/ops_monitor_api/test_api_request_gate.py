"""The token is checked before a body is read, and no route reads more body than its limit."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client import CollectorRegistry

from ops_monitor.api.app import create_app
from ops_monitor.config import Settings

from .conftest import MakeHarness, app_with_double
from .doubles import RecordingService
from .live_server import LiveServer, live_server

TOKEN = "a-long-enough-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
BODY_ROUTES = ["/api/ops/scan", "/api/ops/issues/1/resolve", "/api/ops/logs"]


@pytest.mark.parametrize("path", BODY_ROUTES)
def test_malformed_json_without_a_token_is_401_not_400(make_routes: MakeHarness, path: str) -> None:
    routes = make_routes(token=TOKEN)

    response = routes.client.post(
        path, content=b'{"scope": ', headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert routes.service.calls == []


def test_an_unknown_path_without_a_token_is_401(make_routes: MakeHarness) -> None:
    assert make_routes(token=TOKEN).client.get("/api/ops/nothing-here").status_code == 401


def _status_line(server: LiveServer, head: bytes, body_part: bytes) -> bytes:
    """Send a request head and only the start of its body, then read the status line: the
    server must answer without waiting for the rest (it never reads it)."""
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as connection:
        connection.sendall(head + body_part)
        answer = b""
        while b"\r\n" not in answer:
            chunk = connection.recv(4096)
            if not chunk:
                break
            answer += chunk
    return answer.split(b"\r\n", 1)[0]


def _head(path: str, length: int, *extra: str) -> bytes:
    lines = [
        f"POST {path} HTTP/1.1",
        "Host: 127.0.0.1",
        "Content-Type: application/json",
        f"Content-Length: {length}",
        *extra,
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


@pytest.fixture
def gated_server(tmp_path: Path) -> Iterator[LiveServer]:
    app, _ = app_with_double(tmp_path, token=TOKEN, max_push_bytes=64 * 1024)
    with live_server(app) as server:
        yield server


@pytest.mark.parametrize("path", BODY_ROUTES)
def test_a_64_mib_body_without_a_token_is_refused_before_it_is_read(
    gated_server: LiveServer, path: str
) -> None:
    status = _status_line(gated_server, _head(path, 64 * 1024 * 1024), b"[" * 1024)

    assert status == b"HTTP/1.1 401 Unauthorized"


@pytest.mark.parametrize("path", BODY_ROUTES)
def test_a_declared_body_over_the_limit_is_refused_before_it_is_read(
    gated_server: LiveServer, path: str
) -> None:
    head = _head(path, 64 * 1024 * 1024, f"Authorization: Bearer {TOKEN}")

    status = _status_line(gated_server, head, b"[" * 1024)

    assert status == b"HTTP/1.1 413 Request Entity Too Large"


def _chunks(total: int) -> Iterator[bytes]:
    yield b'{"resolution": "'
    for _ in range(total // 1024):
        yield b"x" * 1024
    yield b'"}'


@pytest.mark.parametrize("path", ["/api/ops/scan", "/api/ops/issues/1/resolve"])
def test_a_streamed_body_is_cut_off_at_the_limit(tmp_path: Path, path: str) -> None:
    settings = Settings(db_url=f"sqlite:///{tmp_path / 'ops.db'}", token=TOKEN, max_body_bytes=4096)
    double = RecordingService()
    app = create_app(settings, service=double, registry=CollectorRegistry())
    with live_server(app) as server, httpx.Client(base_url=server.url) as http:
        response = http.post(path, content=_chunks(64 * 1024), headers=AUTH)

    assert response.status_code == 413
    assert response.json() == {"error": "request body exceeds the 4096-byte limit"}
    assert double.calls == []


def test_the_body_limits_are_settings_with_sane_defaults() -> None:
    settings = Settings()

    assert settings.max_body_bytes == 1024 * 1024
    assert settings.max_push_bytes == 10 * 1024 * 1024
    assert Settings.load(environ={"OPS_MONITOR_MAX_BODY_BYTES": "2048"}).max_body_bytes == 2048


def test_a_body_within_the_limit_reaches_the_route(make_routes: MakeHarness) -> None:
    routes = make_routes(token=TOKEN)

    response = routes.client.post(
        "/api/ops/issues/2/resolve", json={"resolution": "fixed"}, headers=AUTH
    )

    assert response.status_code == 200
    assert routes.service.calls[-1][0] == "resolve_issue"
