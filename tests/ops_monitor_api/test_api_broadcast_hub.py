"""The broadcaster drops subscribers that fall behind, and only them.

The stalled and vanished peers here stand in for the network: a client that stops reading, or
whose connection breaks mid-send. Everything else is the real broadcaster on a real event loop.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from starlette.types import Message
from websockets.sync.client import connect

from ops_monitor.api.broadcast_hub import Broadcaster
from ops_monitor.models import ScanResult

from .conftest import app_with_double
from .doubles import T0
from .live_server import live_server


def scan(scan_id: int, padding: int = 0) -> ScanResult:
    return ScanResult(
        id=scan_id,
        scope="full",
        status="completed",
        trigger="api",
        started_at=T0,
        malformed_samples=["x" * padding] if padding else [],
    )


class NetworkPeer:
    """A subscriber on the far side of a network: reads fine, stalls, or vanishes mid-send."""

    def __init__(self, behaviour: str = "reads", chatter: int = 0) -> None:
        self.behaviour = behaviour
        self.chatter = chatter  # messages the client sends before it leaves
        self.handshake = asyncio.Event()
        self.received: list[str] = []
        self.closed_with: tuple[int, str | None] | None = None
        self.got = asyncio.Event()
        self._gone = asyncio.Event()

    async def accept(self) -> None:
        if self.behaviour == "refuses":
            raise OSError("connection reset during the handshake")
        if self.behaviour != "slow handshake":
            self.handshake.set()
        await self.handshake.wait()

    async def send_text(self, data: str) -> None:
        if self.behaviour == "stalls":
            await asyncio.Event().wait()  # the peer's window never opens again
        if self.behaviour == "vanishes":
            raise OSError("connection reset by peer")
        self.received.append(data)
        self.got.set()

    async def receive(self) -> Message:
        if self.chatter:
            self.chatter -= 1
            return {"type": "websocket.receive", "text": "hello?"}
        await self._gone.wait()
        return {"type": "websocket.disconnect", "code": 1000}

    async def close(self, code: int = 1000, reason: str | None = None) -> None:
        self.closed_with = (code, reason)

    def leave(self) -> None:
        self._gone.set()


async def until(condition: object, timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():  # type: ignore[operator]
            await asyncio.sleep(0.005)


def test_a_stalled_subscriber_is_dropped_when_its_queue_fills() -> None:
    async def scenario() -> tuple[NetworkPeer, NetworkPeer, Broadcaster]:
        hub = Broadcaster(queue_size=1, send_timeout=60)
        hub.attach(asyncio.get_running_loop())
        stalled, healthy = NetworkPeer("stalls"), NetworkPeer()
        serving = [asyncio.create_task(hub.serve(peer)) for peer in (stalled, healthy)]
        await until(lambda: hub.subscriber_count == 2)
        for scan_id in range(1, 5):
            hub.publish(scan(scan_id))
            await asyncio.sleep(0.01)
        await until(lambda: len(healthy.received) == 4)
        await until(lambda: stalled.closed_with is not None)
        healthy.leave()
        await asyncio.gather(*serving)
        return stalled, healthy, hub

    stalled, healthy, hub = asyncio.run(scenario())

    assert [json.loads(m)["scan"]["id"] for m in healthy.received] == [1, 2, 3, 4]
    assert stalled.closed_with == (1013, "queue full")
    assert (hub.dropped, hub.subscriber_count) == (1, 0)


def test_a_send_that_times_out_drops_only_that_subscriber() -> None:
    async def scenario() -> tuple[NetworkPeer, Broadcaster]:
        hub = Broadcaster(queue_size=8, send_timeout=0.05)
        hub.attach(asyncio.get_running_loop())
        stalled = NetworkPeer("stalls")
        serving = asyncio.create_task(hub.serve(stalled))
        await until(lambda: hub.subscriber_count == 1)
        hub.publish(scan(1))
        await serving
        return stalled, hub

    stalled, hub = asyncio.run(scenario())

    assert stalled.closed_with == (1013, "send timed out")
    assert hub.dropped == 1


def test_a_vanished_subscriber_is_forgotten_without_a_close() -> None:
    async def scenario() -> tuple[NetworkPeer, Broadcaster]:
        hub = Broadcaster()
        hub.attach(asyncio.get_running_loop())
        gone = NetworkPeer("vanishes")
        serving = asyncio.create_task(hub.serve(gone))
        await until(lambda: hub.subscriber_count == 1)
        hub.publish(scan(1))
        await asyncio.sleep(0.02)
        gone.leave()
        await serving
        return gone, hub

    gone, hub = asyncio.run(scenario())

    assert (gone.closed_with, hub.subscriber_count, hub.delivered) == (None, 0, 0)


def test_a_subscriber_overwhelmed_during_its_handshake_is_closed_after_it() -> None:
    async def scenario() -> tuple[NetworkPeer, Broadcaster]:
        hub = Broadcaster(queue_size=2)
        hub.attach(asyncio.get_running_loop())
        peer = NetworkPeer("slow handshake")
        serving = asyncio.create_task(hub.serve(peer))
        await until(lambda: hub.subscriber_count == 1)
        for scan_id in range(3):
            hub.publish(scan(scan_id))
        await until(lambda: hub.dropped == 1)
        peer.handshake.set()
        await serving
        return peer, hub

    peer, hub = asyncio.run(scenario())

    assert peer.closed_with == (1013, "queue full")
    assert hub.subscriber_count == 0


def test_a_failed_handshake_leaves_no_subscriber_behind() -> None:
    async def scenario() -> Broadcaster:
        hub = Broadcaster()
        with pytest.raises(OSError, match="handshake"):
            await hub.serve(NetworkPeer("refuses"))
        return hub

    assert asyncio.run(scenario()).subscriber_count == 0


def test_what_a_subscriber_sends_is_ignored() -> None:
    async def scenario() -> NetworkPeer:
        hub = Broadcaster()
        hub.attach(asyncio.get_running_loop())
        peer = NetworkPeer(chatter=3)
        serving = asyncio.create_task(hub.serve(peer))
        await until(lambda: peer.chatter == 0)
        hub.publish(scan(5))
        await peer.got.wait()
        peer.leave()
        await serving
        return peer

    peer = asyncio.run(scenario())

    assert [json.loads(m)["scan"]["id"] for m in peer.received] == [5]
    assert peer.closed_with is None


def test_shutting_down_closes_every_subscriber_as_going_away() -> None:
    async def scenario() -> NetworkPeer:
        hub = Broadcaster()
        hub.attach(asyncio.get_running_loop())
        peer = NetworkPeer()
        serving = asyncio.create_task(hub.serve(peer))
        await until(lambda: hub.subscriber_count == 1)
        hub.detach()
        await serving
        return peer

    assert asyncio.run(scenario()).closed_with == (1001, "server shutting down")


def test_publishing_without_a_running_server_is_logged_not_raised(
    caplog: pytest.LogCaptureFixture,
) -> None:
    hub = Broadcaster()
    with caplog.at_level(logging.WARNING, "ops_monitor.api.broadcast"):
        hub.publish(scan(9))

    assert "scan 9 completed while no event loop is attached" in caplog.text


@contextmanager
def silent_subscriber(url: str) -> Iterator[socket.socket]:
    """A WebSocket client that completes the handshake and then never reads again."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.sendall(
            b"GET /api/ops/broadcast HTTP/1.1\r\nHost: " + host.encode() + b"\r\n"
            b"Upgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Key: " + base64.b64encode(os.urandom(16)) + b"\r\n"
            b"Sec-WebSocket-Version: 13\r\n\r\n"
        )
        head = b""
        while b"\r\n\r\n" not in head:
            head += sock.recv(1)
        assert head.startswith(b"HTTP/1.1 101"), head
        yield sock


def test_a_client_that_stops_reading_does_not_hold_up_the_others(tmp_path: Path) -> None:
    app, _ = app_with_double(tmp_path)
    hub: Broadcaster = app.state.broadcaster
    hub.queue_size, hub.send_timeout = 64, 0.5
    messages, size = 24, 1_000_000  # far more than the sleeper's socket buffers hold
    with (
        live_server(app) as server,
        connect(server.ws_url + "/api/ops/broadcast") as reader,
        silent_subscriber(server.url),
    ):
        for scan_id in range(messages):
            hub.publish(scan(scan_id, padding=size))  # from this thread, as the scan thread does
        ids = [json.loads(reader.recv(timeout=10))["scan"]["id"] for _ in range(messages)]
        deadline = time.monotonic() + 10
        while hub.dropped == 0 and time.monotonic() < deadline:
            time.sleep(0.02)  # the sleeper's send times out once its buffers are full

    assert ids == list(range(messages))
    assert hub.dropped == 1
