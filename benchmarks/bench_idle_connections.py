"""File descriptors of `ops-monitor serve` under a crowd of idle connections.

Starts the server (SQLite, scheduler off), opens `--connections` TCP connections that never send a
byte, and prints the server's open descriptors while they are held, whether /healthz still
answers, and the descriptors once the keep-alive timeout has passed.

    python benchmarks/bench_idle_connections.py [--connections 3000]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psutil


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=3000)
    args = parser.parse_args()
    port = free_port()
    with tempfile.TemporaryDirectory() as scratch:
        env = {k: v for k, v in os.environ.items() if not k.startswith("OPS_MONITOR_")}
        env["OPS_MONITOR_SCHEDULER_ENABLED"] = "false"
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
        base = f"http://127.0.0.1:{port}"
        idle: list[socket.socket] = []
        try:
            deadline = time.monotonic() + 60
            while True:
                with contextlib.suppress(httpx.HTTPError):
                    if httpx.get(base + "/healthz").status_code == 200:
                        break
                if time.monotonic() > deadline:
                    raise SystemExit("the server did not start")
                time.sleep(0.2)
            process = psutil.Process(server.pid)
            before = process.num_fds()
            for _ in range(args.connections):
                with contextlib.suppress(OSError):
                    idle.append(socket.create_connection(("127.0.0.1", port), timeout=5))
            time.sleep(1)
            held = process.num_fds()
            try:
                health = str(httpx.get(base + "/healthz", timeout=10).status_code)
            except httpx.HTTPError as error:
                health = type(error).__name__
            time.sleep(7)  # past the default keep-alive timeout (5 s)
            later = process.num_fds()
        finally:
            for sock in idle:
                sock.close()
            server.terminate()
            server.wait(timeout=30)
    print(
        f"server descriptors: {before} at rest, {held} with {len(idle)} idle connections open "
        f"(/healthz: {health}), {later} seven seconds later"
    )


if __name__ == "__main__":
    main()
