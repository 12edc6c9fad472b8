"""A real HTTP server on 127.0.0.1 that answers from a script: the failing peer for client tests."""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class ScriptedPeer:
    url: str
    replies: deque[tuple[int, Any]] = field(default_factory=deque)
    seen: list[Seen] = field(default_factory=list)

    def reply(self, status: int, body: Any = None) -> None:
        self.replies.append((status, body))


@contextmanager
def scripted_peer() -> Iterator[ScriptedPeer]:
    peer = ScriptedPeer(url="")

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            peer.seen.append(Seen(self.command, self.path, dict(self.headers.items()), body))
            status, payload = peer.replies.popleft() if peer.replies else (200, {})
            data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = _answer

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    peer.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield peer
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
