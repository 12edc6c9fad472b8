"""How `ops-monitor serve` answers while PostgreSQL is stalled: /healthz latency and status, and
how long pushes take, before, during and after a stall.

Puts a TCP proxy on 127.0.0.1 between the server and PostgreSQL (127.0.0.1:5432, database
`test`, a schema of its own), lets the server warm up, then stops the proxy forwarding for
`--stall` seconds (connections stay open, nothing comes back: what a frozen or overloaded server
looks like), while it asks /healthz and pushes a batch every half second. The real PostgreSQL
server is never touched.

    python benchmarks/bench_stalled_database.py [--stall 15]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime

import httpx
import psycopg

PG_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=test connect_timeout=3"


class Proxy:
    """Forwards 127.0.0.1:<port> to PostgreSQL until `flowing` is cleared."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self.listener.getsockname()[1]
        self.flowing = threading.Event()
        self.flowing.set()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(("127.0.0.1", 5432))
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                self.flowing.wait()
                sink.sendall(data)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def batch(n: int) -> list[dict[str, object]]:
    now = datetime.now(UTC).isoformat()
    return [{"timestamp": now, "message": f"bench line {i}", "level": "info"} for i in range(n)]


def timed(call: httpx.Client, method: str, path: str, **kwargs: object) -> tuple[float, str]:
    started = time.perf_counter()
    try:
        response = call.request(method, path, **kwargs)  # type: ignore[arg-type]
        outcome = str(response.status_code)
    except httpx.HTTPError as error:
        outcome = type(error).__name__
    return time.perf_counter() - started, outcome


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stall", type=float, default=15.0, help="seconds the database stalls")
    args = parser.parse_args()
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    proxy = Proxy()
    port = free_port()
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE SCHEMA "{schema}"')
        env = {k: v for k, v in os.environ.items() if not k.startswith("OPS_MONITOR_")}
        env["OPS_MONITOR_SCHEDULER_ENABLED"] = "false"
        url = f"postgresql+psycopg://postgres@127.0.0.1:{proxy.port}/test?options=-csearch_path%3D{schema}"
        server = subprocess.Popen(
            [sys.executable, "-m", "ops_monitor", "serve", "--port", str(port), "--db", url],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            run(f"http://127.0.0.1:{port}", proxy, args.stall)
        finally:
            proxy.flowing.set()
            server.terminate()
            server.wait(timeout=30)
            admin.execute(f'DROP SCHEMA "{schema}" CASCADE')


def run(base: str, proxy: Proxy, stall: float) -> None:
    with httpx.Client(base_url=base, timeout=120) as http:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if http.get("/healthz").status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise SystemExit("the server did not start")
            time.sleep(0.2)
        for _ in range(3):
            http.post("/api/ops/logs", json=batch(100))
        results: dict[str, list[tuple[float, str]]] = {"healthz": [], "push": []}

        def ask(kind: str, method: str, path: str, **kwargs: object) -> None:
            with httpx.Client(base_url=base, timeout=120) as own:
                results[kind].append(timed(own, method, path, **kwargs))

        proxy.flowing.clear()
        stalled_at = time.monotonic()
        askers: list[threading.Thread] = []
        while time.monotonic() - stalled_at < stall:
            for kind, method, path, extra in (
                ("healthz", "GET", "/healthz", {}),
                ("push", "POST", "/api/ops/logs", {"json": batch(100)}),
            ):
                thread = threading.Thread(target=ask, args=(kind, method, path), kwargs=extra)
                thread.start()
                askers.append(thread)
            time.sleep(0.5)
        proxy.flowing.set()
        for thread in askers:
            thread.join()
        after = [timed(http, "GET", "/healthz") for _ in range(3)]
    for kind, answers in results.items():
        durations = sorted(d for d, _ in answers)
        outcomes = sorted({o for _, o in answers})
        print(
            f"{kind} during a {stall:g} s stall: {len(answers)} requests, "
            f"median {durations[len(durations) // 2]:.2f} s, max {durations[-1]:.2f} s, "
            f"answers {', '.join(outcomes)}"
        )
    print(f"healthz after the stall: {', '.join(f'{d:.2f} s {o}' for d, o in after)}")


if __name__ == "__main__":
    main()
