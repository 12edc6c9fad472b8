"""`ops-monitor ingest FILE` end to end: a rerun after kill -9 resumes where the last committed
batch ended (nothing lost, nothing twice), `--restart` reads again, expired records are counted,
and timestamps with no UTC equivalent are malformed lines, never a failed run."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from ops_monitor.cli import main

RECENT = datetime.now(UTC) - timedelta(hours=2)


def line(i: int, *, at: datetime = RECENT) -> str:
    return json.dumps(
        {
            "timestamp": (at + timedelta(milliseconds=i)).isoformat(),
            "level": "info",
            "source": "api",
            "message": f"request {i} done",
        }
    )


def tail_event(i: int) -> str:
    """One line holding three records (the invocation, a log, an exception)."""
    return json.dumps(
        {
            "eventTimestamp": int(RECENT.timestamp() * 1000) + i,
            "scriptName": "worker",
            "outcome": "exception",
            "logs": [{"level": "error", "message": [f"event {i} log"]}],
            "exceptions": [{"name": "Error", "message": f"event {i} failed"}],
        }
    )


def query(db_url: str, sql: str) -> Any:
    engine = create_engine(db_url)
    try:
        with engine.connect() as connection:
            return connection.execute(text(sql)).one()
    finally:
        engine.dispose()


@pytest.fixture
def env(db_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("OPS_MONITOR_DB", db_url)
    for name in ("OPS_MONITOR_URL", "OPS_MONITOR_CONFIG", "OPS_MONITOR_RETENTION_DAYS"):
        monkeypatch.delenv(name, raising=False)
    return db_url


def test_a_rerun_after_kill_9_stores_every_record_exactly_once(
    env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "big.jsonl"
    with log.open("w") as writer:
        for i in range(60_000):
            writer.write((tail_event(i) if i % 7 == 0 else line(i)) + "\n")
            if i % 1000 == 5:
                writer.write("{broken\n")
    expected = 60_000 + 2 * len(range(0, 60_000, 7))
    command = [sys.executable, "-m", "ops_monitor", "ingest", str(log), "--no-progress"]
    running = subprocess.Popen(
        [*command, "--batch-size", "1001"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:  # killed once its first batches are committed
            try:
                if query(env, "SELECT count(*) FROM ops_ingest_checkpoints")[0]:
                    break
            except Exception:  # the tables are not created yet
                continue
        running.send_signal(signal.SIGKILL)
    finally:
        running.wait(timeout=30)
    assert running.returncode == -signal.SIGKILL
    stored_before = query(env, "SELECT count(*) FROM operation_logs")[0]
    assert 0 < stored_before < expected

    assert main(["ingest", str(log), "--no-progress"]) == 0

    err = capsys.readouterr().err
    assert f"resuming {log} at byte" in err
    total, distinct = query(
        env, "SELECT count(*), count(DISTINCT message || CAST(ts AS TEXT)) FROM operation_logs"
    )
    assert total == distinct == expected
    accepted, malformed = query(env, "SELECT sum(accepted), sum(malformed) FROM ops_ingest_batches")
    assert (accepted, malformed) == (expected, 60)
    assert main(["ingest", str(log), "--no-progress"]) == 0
    assert "ingested 0 records" in capsys.readouterr().out


def test_restart_reads_the_file_again_and_a_grown_file_is_read_on(
    env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "app.jsonl"
    log.write_text("".join(line(i) + "\n" for i in range(10)))
    assert main(["ingest", str(log), "--no-progress"]) == 0
    with log.open("a") as writer:
        writer.write("".join(line(i) + "\n" for i in range(10, 15)) + "{broken\n")

    assert main(["ingest", str(log), "--no-progress"]) == 0
    out, err = capsys.readouterr()
    assert "ingested 5 records" in out.splitlines()[-1]
    assert "malformed: line 16: not JSON" in err  # numbered in the whole file
    assert main(["ingest", str(log), "--no-progress", "--restart"]) == 0
    assert "ingested 15 records" in capsys.readouterr().out
    assert query(env, "SELECT count(*) FROM operation_logs")[0] == 10 + 5 + 15


def test_a_replaced_file_at_the_same_path_is_read_from_the_start(
    env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "app.jsonl"
    log.write_text("".join(line(i) + "\n" for i in range(10)))
    assert main(["ingest", str(log), "--no-progress"]) == 0
    rotated = tmp_path / "next.jsonl"
    rotated.write_text("".join(line(i) + "\n" for i in range(100, 120)))
    rotated.replace(log)

    assert main(["ingest", str(log), "--no-progress"]) == 0

    out, err = capsys.readouterr()
    assert "is not the file the last run read" in err
    assert "ingested 20 records" in out.splitlines()[-1]
    assert query(env, "SELECT count(*) FROM operation_logs")[0] == 30


def test_a_file_whose_records_all_expired_exits_1_and_says_so(
    env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = tmp_path / "old.jsonl"
    old.write_text("".join(line(i, at=RECENT - timedelta(days=40)) + "\n" for i in range(7)))
    mixed = tmp_path / "mixed.jsonl"
    mixed.write_text(old.read_text() + line(1) + "\n")

    assert main(["ingest", str(old), "--no-progress"]) == 1
    out, err = capsys.readouterr()
    assert "ingested 0 records" in out
    assert "7 expired (older than the 30-day retention, not stored)" in out
    assert "every record of" in err
    assert main(["ingest", str(mixed), "--no-progress"]) == 0
    assert "ingested 1 records" in capsys.readouterr().out
    assert query(env, "SELECT count(*) FROM operation_logs")[0] == 1


@pytest.mark.parametrize(
    ("fmt", "bad"),
    [
        ("jsonl", '{"timestamp": "9999-12-31T23:59:59-14:00", "message": "late"}'),
        ("jsonl", '{"timestamp": "0001-01-01T00:00:00+00:01", "message": "early"}'),
        ("text", "9999-12-31T23:59:59-14:00 ERROR late"),
    ],
)
def test_a_timestamp_with_no_utc_equivalent_is_one_malformed_line(
    env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], fmt: str, bad: str
) -> None:
    log = tmp_path / "app.log"
    good = [line(i) for i in range(3)]
    if fmt == "text":
        good = [f"{RECENT.isoformat()} INFO request {i} done" for i in range(3)]
    log.write_text("\n".join([good[0], bad, *good[1:]]) + "\n")
    options = ["--pattern", "<Timestamp> <Level> <Content>"] if fmt == "text" else []

    assert main(["ingest", str(log), "--format", fmt, *options, "--no-progress"]) == 0

    out, err = capsys.readouterr()
    assert "ingested 3 records" in out
    assert "1 malformed lines" in out
    assert "line 2: timestamp: " in err
