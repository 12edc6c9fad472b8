"""The broadcast route on a real uvicorn server, with the service double and real WS clients."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from .conftest import app_with_double
from .live_server import live_server

BROADCAST = "/api/ops/broadcast"


def test_every_subscriber_receives_each_completed_scan(tmp_path: Path) -> None:
    app, _ = app_with_double(tmp_path)
    with (
        live_server(app) as server,
        connect(server.ws_url + BROADCAST) as first,
        connect(server.ws_url + BROADCAST) as second,
    ):
        httpx.post(server.url + "/api/ops/scan", json={"scope": "full"}).raise_for_status()
        httpx.post(server.url + "/api/ops/scan", json={"scope": "incremental"}).raise_for_status()

        received = [[json.loads(ws.recv(timeout=5)) for _ in range(2)] for ws in (first, second)]

    for messages in received:
        assert [m["type"] for m in messages] == ["scan_completed", "scan_completed"]
        assert [m["scan"]["scope"] for m in messages] == ["full", "incremental"]
    assert app.state.broadcaster.delivered == 4


def test_a_failed_scan_is_not_broadcast(tmp_path: Path) -> None:
    app, double = app_with_double(tmp_path)
    double.failure = RuntimeError("boom")
    with live_server(app) as server, connect(server.ws_url + BROADCAST) as subscriber:
        assert httpx.post(server.url + "/api/ops/scan", json={"scope": "full"}).status_code == 500
        double.failure = None
        httpx.post(server.url + "/api/ops/scan", json={"scope": "incremental"})

        message = json.loads(subscriber.recv(timeout=5))

    assert message["scan"]["scope"] == "incremental"


def test_with_a_token_the_broadcast_requires_it_by_header_or_query(tmp_path: Path) -> None:
    app, _ = app_with_double(tmp_path, token="s3cret")
    with live_server(app) as server:
        with pytest.raises(InvalidStatus) as refused:
            connect(server.ws_url + BROADCAST)
        with (
            connect(server.ws_url + BROADCAST + "?token=s3cret") as by_query,
            connect(
                server.ws_url + BROADCAST, additional_headers={"Authorization": "Bearer s3cret"}
            ) as by_header,
        ):
            httpx.post(
                server.url + "/api/ops/scan",
                json={"scope": "full"},
                headers={"Authorization": "Bearer s3cret"},
            ).raise_for_status()
            received = [json.loads(ws.recv(timeout=5))["type"] for ws in (by_query, by_header)]

    assert refused.value.response.status_code == 403
    assert received == ["scan_completed", "scan_completed"]
