"""`ops-monitor scheduler` with a database that is not there at start: it keeps its schedule, logs
one JSON line per failure, and once the database is back it records its start and catches up.
Every line it writes to stderr is one JSON object, the service's own error lines included."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy import text

from ops_monitor.config import Settings
from ops_monitor.scheduling.runtime import build_scheduler
from ops_monitor.scheduling.schedules import parse_schedules
from ops_monitor.store import Store

from .conftest import PG_SERVER, PG_URL, START, FakeClock, LogLines, utc


@pytest.fixture
def absent_schema() -> Iterator[tuple[str, psycopg.Connection[tuple[object, ...]]]]:
    """A schema name nobody created yet (the database "is down" for us), dropped afterwards."""
    try:
        admin = psycopg.connect(PG_SERVER, autocommit=True)
    except psycopg.OperationalError as error:  # pragma: no cover - only when truly unreachable
        pytest.skip(f"PostgreSQL on 127.0.0.1:5432 is unreachable: {error}")
    schema = f"sched_{uuid.uuid4().hex[:12]}"
    with admin:
        try:
            yield schema, admin
        finally:
            admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def test_a_scheduler_whose_database_comes_back_records_its_start_and_catches_up(
    absent_schema: tuple[str, psycopg.Connection[tuple[object, ...]]],
    clock: FakeClock,
    log_lines: LogLines,
) -> None:
    from ops_monitor.commands.scheduler import DeferredService, _open_or_wait
    from ops_monitor.scheduling.history import ScheduleHistory

    schema, admin = absent_schema
    settings = Settings(db_url=f"{PG_URL}?options=-csearch_path%3D{schema}")
    store = _open_or_wait(settings)
    service = DeferredService(store, settings)
    scheduler = build_scheduler(
        service,
        store,
        parse_schedules(None),
        registry=CollectorRegistry(),
        clock=clock,
        sleep=clock.sleep,
        history=ScheduleHistory(store, ready=service.ready),
    )
    try:
        scheduler.begin()  # nothing there: logged, not fatal
        admin.execute(f'CREATE SCHEMA "{schema}"')
        clock.set(utc("2026-03-02T04:00"))
        scheduler.handle_due(clock())

        scans = service.ready().recent_scans()
        starts = ScheduleHistory(store).started_at()
    finally:
        store.close()

    assert [line["event"] for line in log_lines.events("database_unavailable")] == [
        "database_unavailable"
    ]
    assert len(log_lines.events("tick_failed")) == 1
    assert [(scan.trigger, scan.status) for scan in scans] == [("full", "completed")]
    assert starts == {"full": START, "incremental": START}
    skipped = log_lines.events("tick_skipped")
    assert [(line["schedule"], line["reason"]) for line in skipped] == [
        ("full", "missed"),  # 02:00 passed while the database was away: coalesced
        ("incremental", "superseded"),  # into the catch-up full scan, which took 04:00
    ]


def test_scheduler_stderr_is_json_even_when_a_scan_fails_with_a_database_error(
    tmp_path: Path,
) -> None:
    db = f"sqlite:///{tmp_path / 'ops.db'}"
    store = Store(db)
    store.migrate()
    with store.write() as connection:  # every scan now fails reading the logs
        connection.execute(text("ALTER TABLE operation_logs RENAME TO operation_logs_away"))
    store.close()
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPS_MONITOR_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "ops_monitor", "scheduler", "--db", db],
        env={**env, "PYTHONUNBUFFERED": "1"},
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    raw: list[str] = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        if not line:
            break
        raw.append(line)
        if '"scan_finished"' in line:
            break
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=20) == 0
    raw += process.stderr.read().splitlines(keepends=True)

    lines = [json.loads(line) for line in raw]  # fails on any line that is not JSON
    assert all(isinstance(line, dict) for line in lines)
    service_lines = [line for line in lines if line.get("logger") == "ops_monitor.service"]
    (failure,) = [line for line in service_lines if line["level"] == "error"]
    assert "scan 1 (full) failed" in failure["message"]
    assert "operation_logs" in json.dumps(failure)  # the reason, in the message or `error`
    (finished,) = [line for line in lines if line["event"] == "scan_finished"]
    assert finished["outcome"] == "failed"
    assert finished["error"] == "OperationalError: no such table: operation_logs"
    assert "Background on this error" not in finished["error"]


def test_the_json_formatter_keeps_json_lines_and_folds_everything_else_into_one() -> None:
    from ops_monitor.scheduling.runtime import JsonLineFormatter

    formatter = JsonLineFormatter()

    def record(message: str, exc: BaseException | None = None) -> logging.LogRecord:
        info = (type(exc), exc, None) if exc is not None else None
        return logging.LogRecord(
            "ops_monitor.service", logging.ERROR, __file__, 1, message, (), info
        )

    ours = formatter.format(record('{"event": "scan_started", "scope": "full"}'))
    plain = formatter.format(record("scan 4 (incremental) failed:\n[SQL: SELECT 1]"))
    failed = formatter.format(record("boom", RuntimeError("line one\nline two")))

    assert ours == '{"event": "scan_started", "scope": "full"}'
    for line in (plain, failed):
        assert "\n" not in line
    assert json.loads(plain)["message"] == "scan 4 (incremental) failed:\n[SQL: SELECT 1]"
    assert json.loads(failed)["error"] == "RuntimeError: line one line two"
    assert json.loads(formatter.format(record("{not json")))["message"] == "{not json"
