"""A webhook receiver on 127.0.0.1: a real HTTP server that records what it is sent and answers
from a script (e.g. 503 once, then 200), standing in for a peer we do not control."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: Any
    answered: int
    at: float


@dataclass
class Receiver:
    url: str
    answers: list[int] = field(default_factory=list)  # consumed in order, then 200
    requests: list[Received] = field(default_factory=list)
    location: str | None = None  # sent with 3xx answers
    _arrived: threading.Condition = field(default_factory=threading.Condition)

    def next_answer(self) -> int:
        return self.answers.pop(0) if self.answers else 200

    def record(self, item: Received) -> None:
        with self._arrived:
            self.requests.append(item)
            self._arrived.notify_all()

    def wait_for(self, count: int, timeout: float) -> list[Received]:
        """Block until `count` requests arrived (or the timeout passed); returns them all."""
        with self._arrived:
            self._arrived.wait_for(lambda: len(self.requests) >= count, timeout)
            return list(self.requests)

    @property
    def accepted(self) -> list[Received]:
        return [r for r in self.requests if 200 <= r.answered < 300]


@contextmanager
def receiver(answers: list[int] | None = None) -> Iterator[Receiver]:
    state = Receiver(url="", answers=list(answers or []))

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            raw = self.rfile.read(length)
            answer = state.next_answer()
            self.send_response(answer)
            if 300 <= answer < 400 and state.location:
                self.send_header("location", state.location)
            self.send_header("content-length", "0")
            self.end_headers()
            state.record(
                Received(
                    self.path,
                    {k.lower(): v for k, v in self.headers.items()},
                    json.loads(raw or b"null"),
                    answer,
                    time.monotonic(),
                )
            )

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
