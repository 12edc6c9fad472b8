"""Server memory before and after unauthenticated bodies: a stranger must not be able to grow it.

Starts `ops-monitor serve` (with a token, on a fresh SQLite file), reads its RSS, sends bodies
without a token to the routes that read a body, and reads the RSS again. The server should refuse
each from its headers (401) without reading it, so its RSS barely moves.

    python benchmarks/bench_body_limits.py [--mib 64] [--bodies 1]
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

from ops_monitor.client import MonitorUnavailable, OpsMonitorClient

TOKEN = "benchmark-token-0123456789"
ROUTES = ("/api/ops/scan", "/api/ops/issues/1/resolve", "/api/ops/logs")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


ITEM = b'"abcdefghijkl",'
PER_CHUNK = 1024 * 1024 // len(ITEM)


def body_chunks(size_mib: int) -> tuple[int, list[bytes]]:
    """A valid JSON object of `size_mib` MiB (a long list of short strings: parsing it costs the
    most memory per byte), in 1 MiB pieces."""
    start, end = b'{"resolution": "x", "filters": {"sources": [', b'"z"]}}'
    chunk = ITEM * PER_CHUNK
    pieces = [start, *([chunk] * size_mib), end]
    return sum(len(piece) for piece in pieces), pieces


def send_body(port: int, path: str, size_mib: int) -> str:
    """POST a big JSON body without a token; the status line, or what broke."""
    size, pieces = body_chunks(size_mib)
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {size}\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", port), timeout=120) as connection:
        try:
            connection.sendall(head)
            for piece in pieces:
                connection.sendall(piece)
        except (BrokenPipeError, ConnectionResetError):
            pass  # refused from the headers: the server closed before the body was sent
        try:
            return connection.recv(4096).split(b"\r\n", 1)[0].decode() or "(closed)"
        except ConnectionResetError:
            return "(reset)"


class PeakSampler(threading.Thread):
    """The highest RSS seen, sampled every 20 ms while bodies are sent."""

    def __init__(self, process: psutil.Process) -> None:
        super().__init__(daemon=True)
        self.process = process
        self.peak = process.memory_info().rss
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.02):
            self.peak = max(self.peak, self.process.memory_info().rss)

    def stop(self) -> None:
        self.done.set()
        self.join()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=64)
    parser.add_argument("--bodies", type=int, default=1, help="bodies per route")
    args = parser.parse_args()
    port = free_port()
    with tempfile.TemporaryDirectory() as scratch:
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
                f"sqlite:///{Path(scratch) / 'ops.db'}",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            with OpsMonitorClient(f"http://127.0.0.1:{port}") as client:
                deadline = time.monotonic() + 60
                while True:
                    try:
                        client.health()
                        break
                    except MonitorUnavailable:
                        if time.monotonic() > deadline:
                            raise
                        time.sleep(0.1)
            process = psutil.Process(server.pid)
            before = process.memory_info().rss
            sampler = PeakSampler(process)
            sampler.start()
            for path in ROUTES:
                for _ in range(args.bodies):
                    status = send_body(port, path, args.mib)
                print(f"{path}: {status}")
            time.sleep(0.5)
            after = process.memory_info().rss
            sampler.stop()
            peak = sampler.peak
        finally:
            server.terminate()
            server.wait(timeout=30)
    mib = 1024 * 1024
    print(
        f"server RSS: {before / mib:.0f} MiB before, {after / mib:.0f} MiB after "
        f"{args.bodies} unauthenticated {args.mib} MiB body per route "
        f"(highest seen {peak / mib:.0f} MiB)"
    )


if __name__ == "__main__":
    main()
