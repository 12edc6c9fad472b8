"""Connection limits for `ops-monitor serve`, so idle or trickling sockets cannot use up the
process's file descriptors (21,000 idle connections once did).

uvicorn closes a keep-alive connection that stays idle between requests, but not one that never
sends a request, nor one that sends its request head a byte at a time; and its own
`limit_concurrency` answers 503 to every request once reached, while still accepting sockets.
The protocol here closes a connection whose next request head is not complete within the
keep-alive timeout (counted from the connection, or from the previous response); over the limit,
a new connection closes the oldest idle one, or is closed itself when none is idle.
"""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

_arrivals = itertools.count(1)


class BoundedHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a deadline on each request head and a cap on open
    connections (`max_connections`; WebSocket connections count too, and are never closed
    to make room)."""

    max_connections: int | None = None
    arrival = 0  # the order connections came in (the event loop's clock is too coarse)

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        if self.max_connections is not None and len(self.connections) >= self.max_connections:
            idle = [
                other
                for other in self.connections
                if isinstance(other, BoundedHttpProtocol) and other._between_requests()
            ]
            if not idle:  # every connection is busy: refuse rather than hold another descriptor
                self.transport = transport
                transport.close()
                return
            # The oldest idle connection (between requests, or still sending its head) gives
            # way, so a crowd of idle sockets cannot lock out clients with something to ask.
            min(idle, key=lambda other: other.arrival).transport.close()
        self.arrival = next(_arrivals)
        super().connection_made(transport)
        self.timeout_keep_alive_task = self.loop.call_later(
            self.timeout_keep_alive, self.timeout_keep_alive_handler
        )

    def data_received(self, data: bytes) -> None:
        deadline = self.timeout_keep_alive_task if self._between_requests() else None
        self.timeout_keep_alive_task = None  # keep uvicorn from cancelling the head's deadline
        super().data_received(data)
        if deadline is None:
            return
        if self._between_requests() and self.timeout_keep_alive_task is None:
            self.timeout_keep_alive_task = deadline  # the head is still incomplete: it stands
        else:
            deadline.cancel()

    def _between_requests(self) -> bool:
        return self.cycle is None or self.cycle.response_complete


def server_limits(keep_alive_timeout_seconds: int, max_connections: int) -> dict[str, Any]:
    """uvicorn options for the limits above (to `uvicorn.run` or `uvicorn.Config`)."""
    protocol = type(
        BoundedHttpProtocol.__name__, (BoundedHttpProtocol,), {"max_connections": max_connections}
    )
    return {"http": protocol, "timeout_keep_alive": keep_alive_timeout_seconds}
