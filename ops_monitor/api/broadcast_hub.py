"""Fan-out of completed scans to WebSocket subscribers.

Scans finish on a worker thread (the service is synchronous), so `publish` hands the message to
the event loop with `call_soon_threadsafe` and returns at once. Each subscriber has its own bounded
queue and a send timeout: a client that falls behind or stops reading is dropped, and nobody else
waits for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from typing import Protocol

from starlette.types import Message
from starlette.websockets import WebSocketDisconnect

from ops_monitor.models import ScanResult

log = logging.getLogger("ops_monitor.api.broadcast")

CLOSE_GOING_AWAY = 1001
CLOSE_TRY_AGAIN_LATER = 1013


class Peer(Protocol):
    """The part of a Starlette `WebSocket` the broadcaster uses."""

    async def accept(self) -> None: ...

    async def send_text(self, data: str) -> None: ...

    async def receive(self) -> Message: ...

    async def close(self, code: int = 1000, reason: str | None = None) -> None: ...


@dataclass(eq=False)
class _Subscriber:
    queue: asyncio.Queue[str]
    sender: asyncio.Task[None] | None = None
    reason: str | None = None  # why it was dropped; None while it is subscribed

    def dropped(self) -> bool:
        return self.reason is not None


class Broadcaster:
    """Delivers each completed scan, as JSON, to every connected subscriber."""

    def __init__(self, *, queue_size: int = 32, send_timeout: float = 5.0) -> None:
        self.queue_size = queue_size
        self.send_timeout = send_timeout
        self._subscribers: set[_Subscriber] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self.delivered = 0
        self.dropped = 0

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        """Bind to the server's event loop (done at startup); publishing needs it."""
        self._loop = loop

    def detach(self) -> None:
        self._loop = None
        for subscriber in list(self._subscribers):
            self._drop(subscriber, "server shutting down")

    def publish(self, result: ScanResult) -> None:
        """Queue `result` for every subscriber. Safe to call from any thread; never blocks."""
        message = f'{{"type":"scan_completed","scan":{result.model_dump_json()}}}'
        loop = self._loop
        if loop is None or loop.is_closed():
            log.warning(
                "scan %s completed while no event loop is attached; not broadcast", result.id
            )
            return
        loop.call_soon_threadsafe(self._fan_out, message)

    def publish_event(self, message: str) -> None:
        """Queue an encoded JSON event (a cron monitor's state change) like a completed scan."""
        loop = self._loop
        if loop is None or loop.is_closed():
            log.warning("an event came while no event loop is attached; not broadcast")
            return
        loop.call_soon_threadsafe(self._fan_out, message)

    def _fan_out(self, message: str) -> None:
        for subscriber in list(self._subscribers):
            try:
                subscriber.queue.put_nowait(message)
            except asyncio.QueueFull:
                self._drop(subscriber, "queue full")

    def _drop(self, subscriber: _Subscriber, reason: str) -> None:
        """Forget a subscriber (each is dropped at most once: it leaves the set here)."""
        subscriber.reason = reason
        self._subscribers.discard(subscriber)
        self.dropped += 1
        log.info("dropped a broadcast subscriber: %s", reason)
        if subscriber.sender is not None:
            subscriber.sender.cancel()

    async def serve(self, websocket: Peer) -> None:
        """Accept one connection and feed it until the client leaves or is dropped.

        The subscriber is registered before the handshake completes, so a client that has
        connected cannot miss a scan that finishes right after.
        """
        subscriber = _Subscriber(queue=asyncio.Queue(self.queue_size))
        self._subscribers.add(subscriber)
        try:
            await websocket.accept()
        except BaseException:
            self._subscribers.discard(subscriber)
            raise
        if subscriber.reason is not None:  # already too far behind before the handshake finished
            await self._close(websocket, subscriber.reason)
            return
        subscriber.sender = asyncio.create_task(self._send_loop(websocket, subscriber))
        listener = asyncio.create_task(self._until_disconnect(websocket))
        try:
            await asyncio.wait({subscriber.sender, listener}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            self._subscribers.discard(subscriber)
            for task in (subscriber.sender, listener):
                task.cancel()
            await asyncio.gather(subscriber.sender, listener, return_exceptions=True)
            if subscriber.dropped():
                await self._close(websocket, subscriber.reason or "")

    async def _send_loop(self, websocket: Peer, subscriber: _Subscriber) -> None:
        while True:
            message = await subscriber.queue.get()
            try:
                await asyncio.wait_for(websocket.send_text(message), self.send_timeout)
            except TimeoutError:
                self._drop(subscriber, "send timed out")
                return
            except (WebSocketDisconnect, RuntimeError, OSError):
                return  # the peer went away; the listener notices too
            self.delivered += 1

    @staticmethod
    async def _until_disconnect(websocket: Peer) -> None:
        while (await websocket.receive())["type"] != "websocket.disconnect":
            pass  # subscribers have nothing to say; anything they send is ignored

    async def _close(self, websocket: Peer, reason: str) -> None:
        code = CLOSE_GOING_AWAY if reason == "server shutting down" else CLOSE_TRY_AGAIN_LATER
        with contextlib.suppress(Exception):  # it may have gone already; we are done either way
            await asyncio.wait_for(websocket.close(code, reason), self.send_timeout)
