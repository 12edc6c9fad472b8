"""Kill the monitor mid-work (kill -9), rerun and retry, and count: accepted vs stored vs processed.

Two faults, on SQLite and on PostgreSQL (a fresh schema of `--pg`, dropped afterwards):

- file: `ops-monitor ingest` of a generated JSON-lines file (plain records, `wrangler tail` events
  of three records on one line, and broken lines) is killed `--kills` times once some batches
  are committed, then rerun to the end; an incremental scan follows.
- push: `--producers` threads push batches with an `Idempotency-Key` to `ops-monitor serve`,
  retrying with the same key when the answer is lost, while incremental scans run and the server
  is killed `--kills` times and restarted.

For each it prints the records expected, accepted (ingest batches, or push answers once per key),
stored (rows), duplicates (rows minus distinct rows), and processed (the sum of `logs_processed`
over the completed scans). A sound monitor prints the same number four times and no duplicates;
the script exits 1 otherwise.

    python benchmarks/fault_integrity.py [--db sqlite|postgresql|both] [--lines 300000]
        [--pushes 40] [--batch 2000] [--producers 4] [--kills 3]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from figures import record
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
MONITOR = [sys.executable, "-m", "ops_monitor"]
BASE = datetime.now(UTC) - timedelta(hours=3)  # inside any retention window


@dataclass
class Tally:
    fault: str
    database: str
    expected: int
    accepted: int
    stored: int
    distinct: int
    processed: int
    kills: int
    seconds: float

    @property
    def sound(self) -> bool:
        return self.expected == self.accepted == self.stored == self.distinct == self.processed

    def line(self) -> str:
        return (
            f"{self.fault:<5} {self.database:<10} kills {self.kills}: expected {self.expected}, "
            f"accepted {self.accepted}, stored {self.stored} "
            f"({self.stored - self.distinct} duplicates), processed {self.processed} "
            f"in {self.seconds:.1f} s: {'OK' if self.sound else 'LOST OR DUPLICATED'}"
        )


@contextmanager
def database(kind: str, folder: Path, pg_url: str) -> Iterator[str]:
    """A fresh, empty database of `kind`: a SQLite file, or a PostgreSQL schema dropped after."""
    if kind == "sqlite":
        yield f"sqlite:///{folder / f'fault-{uuid.uuid4().hex[:6]}.db'}"
        return
    schema = f"fault_{uuid.uuid4().hex[:8]}"
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


def one(db_url: str, sql: str) -> tuple[Any, ...]:
    engine = create_engine(db_url)
    try:
        with engine.connect() as connection:
            return tuple(connection.execute(text(sql)).one())
    finally:
        engine.dispose()


def stored_and_processed(db_url: str) -> tuple[int, int, int]:
    stored, distinct = one(
        db_url,
        "SELECT count(*), count(DISTINCT source || message || CAST(ts AS TEXT)) "
        "FROM operation_logs",
    )
    (processed,) = one(
        db_url,
        "SELECT coalesce(sum(logs_processed), 0) FROM ops_scans "
        "WHERE status = 'completed' AND scope = 'incremental'",
    )
    return int(stored), int(distinct), int(processed)


# ---------------------------------------------------------------------------------- file ingest
def write_log(path: Path, lines: int) -> int:
    """A JSON-lines file; returns how many records it holds."""
    records = 0
    with path.open("w") as out:
        for i in range(lines):
            moment = BASE + timedelta(milliseconds=i)
            if i % 11 == 0:  # one line, three records
                event = {
                    "eventTimestamp": int(moment.timestamp() * 1000),
                    "scriptName": "worker",
                    "outcome": "exception",
                    "event": {"request": {"url": f"https://example.com/{i}", "method": "GET"}},
                    "logs": [{"level": "error", "message": [f"event {i} log"]}],
                    "exceptions": [{"name": "Error", "message": f"event {i} failed"}],
                }
                out.write(json.dumps(event) + "\n")
                records += 3
            else:
                item = {
                    "timestamp": moment.isoformat(),
                    "level": "error" if i % 5 == 0 else "info",
                    "source": "api",
                    "message": f"request {i} answered 500" if i % 5 == 0 else f"request {i} ok",
                }
                out.write(json.dumps(item) + "\n")
                records += 1
            if i % 997 == 0:
                out.write("{not json\n")
    return records


def rows(db_url: str) -> int:
    try:
        (count,) = one(db_url, "SELECT count(*) FROM operation_logs")
    except Exception:  # the tables are not created yet
        return 0
    return int(count)


def file_fault(db_url: str, kind: str, folder: Path, lines: int, kills: int) -> Tally:
    log = folder / "app.jsonl"
    expected = write_log(log, lines)
    env = {**os.environ, "OPS_MONITOR_DB": db_url}
    command = [*MONITOR, "ingest", str(log), "--no-progress", "--batch-size", "2500"]
    started = time.perf_counter()
    done_kills = 0
    for kill in range(kills):
        target = expected * (kill + 1) // (kills + 2)  # spread the kills over the file
        running = subprocess.Popen(
            command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        while running.poll() is None and rows(db_url) < target:
            time.sleep(0.02)
        if running.poll() is None:
            running.send_signal(signal.SIGKILL)
            done_kills += 1
        running.wait()
    subprocess.run(command, env=env, check=False, capture_output=True)
    subprocess.run(
        [*MONITOR, "scan", "--scope", "incremental"], env=env, check=True, capture_output=True
    )
    (accepted,) = one(db_url, "SELECT coalesce(sum(accepted), 0) FROM ops_ingest_batches")
    stored, distinct, processed = stored_and_processed(db_url)
    return Tally(
        "file",
        kind,
        expected,
        int(accepted),
        stored,
        distinct,
        processed,
        done_kills,
        time.perf_counter() - started,
    )


# ---------------------------------------------------------------------------------- HTTP push
def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class Server:
    """`ops-monitor serve` as a subprocess that can be killed and started again (new port)."""

    def __init__(self, db_url: str) -> None:
        self.db_url = db_url
        self.process: subprocess.Popen[bytes] | None = None
        self.url = ""
        self.lock = threading.Lock()

    def start(self) -> None:
        port = free_port()
        self.process = subprocess.Popen(
            [*MONITOR, "serve", "--db", self.db_url, "--port", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{url}/healthz", timeout=2).raise_for_status()
                break
            except httpx.HTTPError:
                time.sleep(0.05)
        else:
            raise SystemExit("the server did not come up within 60 s")
        self.url = url

    def kill(self) -> None:
        assert self.process is not None  # started first
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)


def push_batch(producer: int, number: int, size: int) -> list[dict[str, Any]]:
    return [
        {
            "timestamp": (BASE + timedelta(milliseconds=number * size + i)).isoformat(),
            "source": f"producer-{producer}",
            "level": "error" if i % 7 == 0 else "info",
            "message": f"push {number} item {i}",
        }
        for i in range(size)
    ]


def push_fault(
    db_url: str, kind: str, pushes: int, batch: int, producers: int, kills: int
) -> Tally:
    server = Server(db_url)
    server.start()
    answers: dict[str, int] = {}
    answers_lock = threading.Lock()
    pushing = threading.Event()
    pushing.set()
    started = time.perf_counter()

    def produce(producer: int) -> None:
        with httpx.Client(timeout=60) as client:
            for number in range(pushes):
                key = f"p{producer}-{number}"
                body = push_batch(producer, number, batch)
                while True:  # retried with the same key until an answer arrives
                    try:
                        response = client.post(
                            f"{server.url}/api/ops/logs",
                            json=body,
                            headers={"Idempotency-Key": key},
                        )
                    except httpx.HTTPError:
                        time.sleep(0.1)
                        continue
                    if response.status_code == 200:
                        with answers_lock:
                            answers[key] = response.json()["accepted"]
                        break
                    time.sleep(0.1)

    def scan() -> None:
        while pushing.is_set():
            try:
                httpx.post(f"{server.url}/api/ops/scan", json={"scope": "incremental"}, timeout=60)
            except httpx.HTTPError:
                time.sleep(0.1)

    workers = [threading.Thread(target=produce, args=(p,)) for p in range(producers)]
    scanner = threading.Thread(target=scan)
    for worker in [*workers, scanner]:
        worker.start()
    done_kills = 0
    total = producers * pushes
    for kill in range(kills):
        target = total * (kill + 1) // (kills + 2)
        while len(answers) < target and any(w.is_alive() for w in workers):
            time.sleep(0.02)
        time.sleep(0.05)  # into the pushes after that answer
        with server.lock:
            server.kill()
            done_kills += 1
            server.start()
    for worker in workers:
        worker.join()
    pushing.clear()
    scanner.join()
    httpx.post(f"{server.url}/api/ops/scan", json={"scope": "incremental"}, timeout=120)
    server.stop()
    stored, distinct, processed = stored_and_processed(db_url)
    return Tally(
        "push",
        kind,
        total * batch,
        sum(answers.values()),
        stored,
        distinct,
        processed,
        done_kills,
        time.perf_counter() - started,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--pg", default=PG_URL, help="the PostgreSQL database to use")
    parser.add_argument("--lines", type=int, default=300_000, help="lines of the ingested file")
    parser.add_argument("--pushes", type=int, default=40, help="pushes per producer")
    parser.add_argument("--batch", type=int, default=2_000, help="records per push")
    parser.add_argument("--producers", type=int, default=4)
    parser.add_argument("--kills", type=int, default=3, help="kill -9 per fault")
    args = parser.parse_args()
    kinds = ("sqlite", "postgresql") if args.db == "both" else (args.db,)
    tallies: list[Tally] = []
    with tempfile.TemporaryDirectory(prefix="fault-integrity-") as folder:
        for kind in kinds:
            with database(kind, Path(folder), args.pg) as url:
                tallies.append(file_fault(url, kind, Path(folder), args.lines, args.kills))
                print(tallies[-1].line(), flush=True)
            with database(kind, Path(folder), args.pg) as url:
                tallies.append(
                    push_fault(url, kind, args.pushes, args.batch, args.producers, args.kills)
                )
                print(tallies[-1].line(), flush=True)
    record(
        "fault_integrity",
        {
            f"{t.fault}_{t.database}": {
                "expected": t.expected,
                "accepted": t.accepted,
                "stored": t.stored,
                "duplicates": t.stored - t.distinct,
                "processed": t.processed,
                "kills": t.kills,
                "seconds": round(t.seconds, 1),
            }
            for t in tallies
        },
    )
    return 0 if all(t.sound for t in tallies) else 1


if __name__ == "__main__":
    sys.exit(main())
