"""Records per second through `POST /api/ops/logs` into SQLite or PostgreSQL, pushed in batches.

Starts `ops-monitor serve` as a subprocess on a fresh SQLite file (or, with `--db postgresql`, a
fresh schema of the PostgreSQL database at `--pg`, dropped afterwards), pushes NDJSON batches with
`OpsMonitorClient` from a few producer threads (records prepared up front; each push encodes
its batch, as an app would), and prints the rate, plus the server's CPU time per record, which
is the figure to trust on a busy machine.
Target: at least 20,000 records/s.

    python benchmarks/bench_push.py [--records 200000] [--batch 5000] [--producers 2]
        [--db sqlite|postgresql] [--pg postgresql+psycopg://postgres@127.0.0.1:5432/test]
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psutil
from figures import record
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from ops_monitor.client import MonitorUnavailable, OpsMonitorClient

TARGET = 20_000
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
SOURCES = ("checkout", "auth", "search", "billing")
LEVELS = ("info", "info", "info", "warning", "error")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def batch(start: int, size: int) -> list[dict[str, Any]]:
    base = datetime.now(UTC) - timedelta(hours=1)  # inside any retention window
    return [
        {
            "timestamp": (base + timedelta(milliseconds=i)).isoformat(),
            "source": SOURCES[i % len(SOURCES)],
            "level": LEVELS[i % len(LEVELS)],
            "message": f"GET /api/items/{i % 977} answered 200 in {i % 250} ms",
            "attributes": {"request_id": f"req-{i}", "colo": "AMS"},
        }
        for i in range(start, start + size)
    ]


@contextmanager
def database(kind: str, folder: Path, pg_url: str) -> Iterator[str]:
    """A fresh, empty database of `kind`: a SQLite file, or a PostgreSQL schema dropped after."""
    if kind == "sqlite":
        yield f"sqlite:///{folder / 'ops.db'}"
        return
    schema = f"bench_push_{uuid.uuid4().hex[:8]}"
    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = make_url(pg_url).update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


def wait_until_up(client: OpsMonitorClient, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server exited with status {server.returncode}")
        try:
            client.health()
            return
        except MonitorUnavailable:
            time.sleep(0.1)
    raise SystemExit("the server did not come up within 30 s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=5_000)
    parser.add_argument(
        "--producers", type=int, default=2, help="concurrent pushers (as several app instances)"
    )
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--pg", default=PG_URL, help="the PostgreSQL database for --db postgresql")
    args = parser.parse_args()

    with (
        tempfile.TemporaryDirectory(prefix="bench-push-") as folder,
        database(args.db, Path(folder), args.pg) as url,
    ):
        port = free_port()
        server = subprocess.Popen(
            [sys.executable, "-m", "ops_monitor", "serve", "--db", url, "--port", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            with OpsMonitorClient(f"http://127.0.0.1:{port}", timeout=120) as client:
                wait_until_up(client, server)
                batches = [batch(i, args.batch) for i in range(0, args.records, args.batch)]
                client.push_logs(batch(-args.batch, args.batch))  # warm-up: tables, caches
                server_cpu = psutil.Process(server.pid)
                cpu_before = sum(server_cpu.cpu_times()[:2])
                started = time.perf_counter()
                with ThreadPoolExecutor(args.producers) as producers:
                    results = producers.map(client.push_logs, batches)
                    accepted = sum(result.accepted for result in results)
                elapsed = time.perf_counter() - started
                cpu = sum(server_cpu.cpu_times()[:2]) - cpu_before
        finally:
            server.terminate()
            server.wait(timeout=30)

    rate = accepted / elapsed
    print(
        f"http push ({args.db}): {accepted} records in {len(batches)} batches of {args.batch} "
        f"from {args.producers} producers "
        f"in {elapsed:.2f} s = {rate:,.0f} records/s (target {TARGET:,}/s); "
        f"server CPU {cpu:.2f} s = {accepted / cpu:,.0f} records per server CPU-second; "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    )
    record(
        "push" if args.db == "sqlite" else f"push_{args.db}",
        {
            "database": args.db,
            "records": accepted,
            "expected": args.records,
            "batch": args.batch,
            "producers": args.producers,
            "seconds": round(elapsed, 3),
            "records_per_second": round(rate),
            "server_cpu_seconds": round(cpu, 3),
            "records_per_server_cpu_second": round(accepted / cpu),
        },
    )
    return 0 if accepted == args.records else 1


if __name__ == "__main__":
    sys.exit(main())
