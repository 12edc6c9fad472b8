"""The token never reaches the log, and a browser can subscribe without putting it in a URL."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from ops_monitor.api.log_redaction import RedactSecrets, redact, with_redaction
from ops_monitor.api.tickets import TicketBook
from ops_monitor.client import OpsMonitorClient
from ops_monitor.scheduling.runtime import uvicorn_log_config

from .conftest import app_with_double
from .live_server import live_server
from .test_api_serve_command import free_port, wait_until_up

TOKEN = "log-secret-0123456789abcdef"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
BROADCAST = "/api/ops/broadcast"


@pytest.mark.slow  # a real `ops-monitor serve` process, its stderr read whole
def test_serve_never_logs_the_token_or_a_ticket(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPS_MONITOR_")}
    env |= {"OPS_MONITOR_TOKEN": TOKEN, "OPS_MONITOR_SCHEDULER_ENABLED": "false"}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ops_monitor",
            "serve",
            "--port",
            str(port),
            "--db",
            f"sqlite:///{tmp_path / 'ops.db'}",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base, ws_base = f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}"
    try:
        with OpsMonitorClient(base, token=TOKEN) as client:
            wait_until_up(client, server)
        ticket = httpx.post(f"{base}{BROADCAST}/ticket", headers=AUTH).json()["ticket"]
        with (
            connect(f"{ws_base}{BROADCAST}?token={TOKEN}"),
            connect(f"{ws_base}{BROADCAST}?ticket={ticket}"),
        ):
            pass
        listed = httpx.get(f"{base}/api/ops/scans?limit=1&token={TOKEN}", headers=AUTH)
    finally:
        server.terminate()
        _, stderr = server.communicate(timeout=30)

    log = stderr.decode()
    messages = [json.loads(line)["message"] for line in log.splitlines()]
    assert listed.status_code == 200
    assert TOKEN not in log
    assert ticket not in log
    assert any(f'"WebSocket {BROADCAST}?token=<redacted>"' in m for m in messages)
    assert any(f'"WebSocket {BROADCAST}?ticket=<redacted>"' in m for m in messages)
    assert any('"GET /api/ops/scans?limit=1&token=<redacted> HTTP/1.1" 200' in m for m in messages)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/api/ops/broadcast?token=abc", "/api/ops/broadcast?token=<redacted>"),
        ("/x?a=1&TOKEN=abc&b=2", "/x?a=1&TOKEN=<redacted>&b=2"),
        ("/x?ticket=1.2.3", "/x?ticket=<redacted>"),
        ("/x?access_token=abc def", "/x?access_token=<redacted> def"),
        ("/x?tokens=abc&mytoken=def", "/x?tokens=abc&mytoken=def"),
    ],
)
def test_secret_query_parameters_are_redacted(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_the_filter_redacts_uvicorn_style_arguments_and_formatted_messages() -> None:
    access = logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5", "GET", "/api/ops/broadcast?token=abc", "1.1", 101), None,
    )  # fmt: skip
    plain = logging.LogRecord(
        "uvicorn.error", logging.INFO, __file__, 1, "saw /x?ticket=1.2.3", None, None
    )

    assert RedactSecrets().filter(access)
    assert RedactSecrets().filter(plain)
    assert access.getMessage() == (
        '127.0.0.1:5 - "GET /api/ops/broadcast?token=<redacted> HTTP/1.1" 101'
    )
    assert plain.getMessage() == "saw /x?ticket=<redacted>"


def test_every_uvicorn_logger_of_serve_redacts() -> None:
    config = with_redaction(uvicorn_log_config())

    assert {name: logger["filters"] for name, logger in config["loggers"].items()} == {
        name: ["ops-monitor-redact-secrets"]
        for name in ("uvicorn", "uvicorn.error", "uvicorn.access")
    }
    assert "filters" not in uvicorn_log_config()["loggers"]["uvicorn"]  # a copy, not a change


def test_a_ticket_from_an_authenticated_post_opens_the_broadcast_once(tmp_path: Path) -> None:
    app, _ = app_with_double(tmp_path, token=TOKEN)
    with live_server(app) as server:
        anonymous = httpx.post(server.url + BROADCAST + "/ticket")
        issued = httpx.post(server.url + BROADCAST + "/ticket", headers=AUTH).json()
        url = f"{server.ws_url}{BROADCAST}?ticket={issued['ticket']}"
        with connect(url) as subscriber:
            httpx.post(server.url + "/api/ops/scan", json={"scope": "full"}, headers=AUTH)
            message = json.loads(subscriber.recv(timeout=5))
        with pytest.raises(InvalidStatus) as replayed:
            connect(url)
        with pytest.raises(InvalidStatus) as forged:
            connect(f"{server.ws_url}{BROADCAST}?ticket={issued['ticket'][:-1]}0")

    assert anonymous.status_code == 401
    assert issued["expires_in"] == 30
    assert message["type"] == "scan_completed"
    assert replayed.value.response.status_code == 403
    assert forged.value.response.status_code == 403


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def test_a_ticket_expires_and_only_its_own_token_signs_it() -> None:
    clock = Clock()
    book = TicketBook(TOKEN, lifetime=30, clock=clock)
    stale, fresh, foreign = book.issue(), book.issue(), TicketBook("another-token-of-16+").issue()

    clock.now += 31
    late = book.redeem(stale)
    clock.now -= 31

    assert not late
    assert book.redeem(fresh)
    assert not book.redeem(foreign)
    assert not book.redeem("not a ticket")
    assert not book.redeem("123.abc")


def test_spent_tickets_are_forgotten_once_expired() -> None:
    clock = Clock()
    book = TicketBook(TOKEN, lifetime=30, clock=clock)
    assert book.redeem(book.issue())
    clock.now += 60

    assert book.redeem(book.issue())
    assert len(book._spent) == 1
