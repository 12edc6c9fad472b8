"""Service throughput: `ops-monitor ingest` into SQLite, a full scan over stored records, an
incremental scan of new records on top, and each step's peak memory.

Every step runs as its own `ops-monitor` process (what an operator runs), timed from outside;
peak RSS comes from the kernel's accounting of that process (`wait4`). Prints figures; asserts
nothing. Usage:

    python benchmarks/bench_monitor.py                       # 1,000,000 stored records
    python benchmarks/bench_monitor.py --records 200000 --ingest-records 50000
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from figures import record

from ops_monitor.service import OpsMonitorService
from ops_monitor.store import Store
from ops_monitor.store.logs import LogRow, insert_logs, to_micros

SOURCES = [f"worker-{n}" for n in range(20)]
INFO = [
    "GET /api/items/{n} 200 in {ms} ms",
    "POST /api/orders 201 order={n} in {ms} ms",
    "cache hit for key user:{n}:profile",
    "queue depth {n} on shard {s}",
    "scheduled job {n} finished",
]
ERRORS = [
    "database timeout after {ms} ms on shard {s}",
    "TypeError: Cannot read properties of undefined (reading 'id{s}')",
    "upstream 502 from https://api.example.com/v1/rates/{n}",
    "payment {n} declined: card expired",
    "KV write failed for key session:{n}",
]


def synthetic(
    count: int, start: datetime, seed: int, span: timedelta = timedelta(days=7)
) -> Iterator[tuple[datetime, str, str, str, dict[str, object]]]:
    """Reproducible records spread evenly over `span` from `start`: ~2% errors, ~0.5% slow
    requests, ~0.05% CPU limits."""
    rng = random.Random(seed)
    step = span / max(count, 1)
    for i in range(count):
        roll = rng.random()
        fields = {"n": rng.randrange(100_000), "ms": rng.randrange(5, 900), "s": rng.randrange(8)}
        attributes: dict[str, object] = {}
        if roll < 0.02:
            level, message = "error", rng.choice(ERRORS).format(**fields)
        else:
            level, message = "info", rng.choice(INFO).format(**fields)
            if roll < 0.025:
                attributes["duration_ms"] = rng.randrange(1500, 9000)
            elif roll < 0.0255:
                attributes["outcome"] = "exceededCpu"
        yield start + i * step, rng.choice(SOURCES), level, message, attributes


def write_jsonl(path: Path, count: int, start: datetime) -> None:
    with path.open("w") as handle:
        for when, source, level, message, attributes in synthetic(count, start, seed=1):
            item = {
                "timestamp": when.isoformat(),
                "source": source,
                "level": level,
                "message": message,
                **attributes,
            }
            handle.write(json.dumps(item) + "\n")


def bulk_load(
    url: str, count: int, start: datetime, seed: int, span: timedelta = timedelta(days=7)
) -> None:
    """Set-up only (not measured): rows straight into the table."""
    store = Store(url)
    store.migrate()
    batch: list[LogRow] = []
    with store.read() as connection:
        for when, source, level, message, attributes in synthetic(count, start, seed, span):
            outcome = attributes.get("outcome")
            duration = attributes.get("duration_ms")
            batch.append(
                (
                    to_micros(when),
                    source,
                    level,
                    message,
                    outcome if isinstance(outcome, str) else None,
                    float(duration) if isinstance(duration, int) else None,
                    None,
                )
            )
            if len(batch) == 20_000:
                with connection.begin():
                    insert_logs(connection, batch)
                batch.clear()
        with connection.begin():
            insert_logs(connection, batch)
    store.close()


def run(args: list[str]) -> tuple[float, float, str]:
    """Run `ops-monitor ARGS`; return wall seconds, peak RSS in MiB, and stdout. Also prints the
    process's CPU time: on a shared machine wall time includes waiting for a core."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "ops_monitor", *args], stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    out = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"ops-monitor {' '.join(args)} exited {process.returncode}")
    print(
        f"  ops-monitor {args[0]}: cpu {usage.ru_utime + usage.ru_stime:.2f} s "
        f"(user {usage.ru_utime:.2f}, sys {usage.ru_stime:.2f}), wall {elapsed:.2f} s"
    )
    return elapsed, usage.ru_maxrss / 1024, out


def scan_seconds(out: str) -> float:
    data = json.loads(out)
    finished = datetime.fromisoformat(data["finished_at"])
    return (finished - datetime.fromisoformat(data["started_at"])).total_seconds()


def in_service(url: str, count: int, full: float) -> dict[str, object]:
    """An incremental scan as the scheduler runs it: inside a service that has scanned before,
    so statements are compiled and connections open; only the new records' work remains."""
    service = OpsMonitorService(Store(url))
    for seed in (4, 5):  # the first scan warms the service up; the second is measured
        bulk_load(url, count, datetime.now(UTC) - timedelta(hours=1), seed, timedelta(hours=1))
        started = time.perf_counter()
        result = service.run_scan("incremental")
        seconds = time.perf_counter() - started
    service.store.close()
    print(
        f"incremental scan of {result.logs_processed:,} new records in a running service: "
        f"{seconds:.3f} s ({seconds / full:.1%} of the full scan)"
    )
    return {
        "records": result.logs_processed,
        "seconds": round(seconds, 4),
        "share_of_full_scan": round(seconds / full, 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--records", type=int, default=1_000_000, help="stored before the full scan"
    )
    parser.add_argument("--incremental", type=int, default=10_000, help="new records on top")
    parser.add_argument("--ingest-records", type=int, default=200_000, help="lines for ingest")
    parser.add_argument("--workdir", type=Path, help="keep the files here (default: a temp dir)")
    options = parser.parse_args()
    workdir = options.workdir or Path(tempfile.mkdtemp(prefix="bench-monitor-"))
    workdir.mkdir(parents=True, exist_ok=True)
    start = datetime.now(UTC) - timedelta(days=8)
    print(f"machine: {os.cpu_count()} cpus, load average {os.getloadavg()[0]:.2f}")

    ingest_db = f"sqlite:///{workdir / 'ingest.db'}"
    source = workdir / "ingest.jsonl"
    write_jsonl(source, options.ingest_records, start)
    wall, rss, out = run(["ingest", str(source), "--db", ingest_db, "--no-progress"])
    print(
        f"ingest: {options.ingest_records:,} JSON lines in {wall:.2f} s wall "
        f"({options.ingest_records / wall:,.0f} records/s including start-up); "
        f"peak RSS {rss:.0f} MiB; it reported: {out.strip()}"
    )
    figures: dict[str, object] = {
        "ingest": {
            "records": options.ingest_records,
            "wall_seconds": round(wall, 3),
            "records_per_second": round(options.ingest_records / wall),
            "peak_rss_mib": round(rss),
        }
    }

    scan_db = f"sqlite:///{workdir / 'scan.db'}"
    loaded = time.perf_counter()
    bulk_load(scan_db, options.records, start, seed=2)
    print(f"set-up: {options.records:,} records stored in {time.perf_counter() - loaded:.1f} s")
    wall, rss, out = run(["scan", "--scope", "full", "--json", "--db", scan_db])
    full = scan_seconds(out)
    result = json.loads(out)
    print(
        f"full scan of {options.records:,} records: {full:.2f} s in the scan, {wall:.2f} s wall; "
        f"peak RSS {rss:.0f} MiB; logs processed {result['logs_processed']:,}, "
        f"issues found {result['issues_found']}"
    )
    figures["full_scan"] = {
        "records": options.records,
        "scan_seconds": round(full, 3),
        "wall_seconds": round(wall, 3),
        "peak_rss_mib": round(rss),
        "logs_processed": result["logs_processed"],
        "issues_found": result["issues_found"],
    }

    # What arrives between two incremental runs: the last hour's records.
    last_hour = datetime.now(UTC) - timedelta(hours=1)
    bulk_load(scan_db, options.incremental, last_hour, seed=3, span=timedelta(hours=1))
    wall, rss, out = run(["scan", "--scope", "incremental", "--json", "--db", scan_db])
    incremental = scan_seconds(out)
    processed = json.loads(out)["logs_processed"]
    print(
        f"incremental scan of {processed:,} new records: "
        f"{incremental:.2f} s in the scan, {wall:.2f} s wall ({incremental / full:.1%} of the "
        f"full scan); peak RSS {rss:.0f} MiB"
    )
    figures["incremental_scan"] = {
        "records": processed,
        "scan_seconds": round(incremental, 3),
        "wall_seconds": round(wall, 3),
        "share_of_full_scan": round(incremental / full, 4),
        "peak_rss_mib": round(rss),
    }
    figures["incremental_scan_in_service"] = in_service(scan_db, options.incremental, full)
    record("monitor", figures)


if __name__ == "__main__":
    main()
