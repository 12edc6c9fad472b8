"""`ops-monitor scheduler` and `ops-monitor cron status` from the command line."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ops_monitor.cli import main
from ops_monitor.commands.serve import build_app
from ops_monitor.config import Settings
from ops_monitor.service import OpsMonitorService
from ops_monitor.store import Store

from .conftest import served


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    for name in list(os.environ):
        if name.startswith("OPS_MONITOR_"):
            monkeypatch.delenv(name)
    return f"sqlite:///{tmp_path / 'ops.db'}"


def scan_at(url: str, trigger: str, scope: str, hours_ago: float) -> int:
    store = Store(url)
    store.migrate()
    try:
        service = OpsMonitorService(store, clock=lambda: _now() - timedelta(hours=hours_ago))
        return service.run_scan(scope, trigger=trigger).id
    finally:
        store.close()


def _now() -> datetime:
    return datetime.now(UTC)


def just_after_the_last_2am() -> float:
    """Hours ago of a minute after the default full schedule last fired: a full scan then is on
    time whatever the time of day the test runs."""
    now = _now()
    last = now.replace(hour=2, minute=1, second=0, microsecond=0)
    if last > now:
        last -= timedelta(days=1)
    return (now - last) / timedelta(hours=1)


def test_cron_status_on_a_fresh_database_says_never_ran_and_exits_0(
    db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["cron", "status", "--db", db])

    out = capsys.readouterr().out
    assert code == 0
    assert "full" in out
    assert "0 */4 * * *" in out
    assert "never ran" in out
    assert "LATE" not in out


def test_cron_status_after_runs_is_on_time_and_exits_0(
    db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    full_id = scan_at(db, "full", "full", hours_ago=just_after_the_last_2am())
    scan_at(db, "incremental", "incremental", hours_ago=1)

    code = main(["cron", "status", "--db", db, "--json"])

    data = json.loads(capsys.readouterr().out)
    assert code == 0
    assert data["late"] is False
    full = data["schedules"][0]
    assert (full["name"], full["last_outcome"], full["last_scan_id"]) == (
        "full",
        "completed",
        full_id,
    )


def test_cron_status_table_marks_a_stale_schedule_late(
    db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    scan_at(db, "full", "full", hours_ago=just_after_the_last_2am())
    scan_at(db, "incremental", "incremental", hours_ago=6)  # a tick came and went, + 1 h grace

    code = main(["cron", "status", "--db", db])

    lines = capsys.readouterr().out.splitlines()
    assert code == 1
    assert "on time" in next(line for line in lines if " full " in line)
    assert "LATE" in next(line for line in lines if " incremental " in line)
    assert "completed" in next(line for line in lines if " incremental " in line)


def test_cron_status_over_http_matches_the_database(
    db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    scan_at(db, "full", "full", hours_ago=2)
    app = build_app(Settings(db_url=db, schedules={"full": "0 2 * * *"}))

    with served(app) as server:
        code = main(["cron", "status", "--url", server.url, "--json"])

    data = json.loads(capsys.readouterr().out)
    assert code == 0
    assert [(row["name"], row["last_outcome"], row["late"]) for row in data["schedules"]] == [
        ("full", "completed", False)
    ]


def test_cron_status_unreachable_monitor_is_a_one_line_error(
    db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["cron", "status", "--url", "http://127.0.0.1:9", "--json"])

    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("ops-monitor: error: http://127.0.0.1:9")
    assert len(err.strip().splitlines()) == 1


def test_db_and_url_together_are_a_usage_error(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["cron", "status", "--db", db, "--url", "http://127.0.0.1:9"]) == 2
    assert "give --db or --url, not both" in capsys.readouterr().err


def test_scheduler_next_previews_ticks_with_the_full_scan_winning_collisions(
    db: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(
        "OPS_MONITOR_SCHEDULES", json.dumps({"full": "0 0 * * *", "incremental": "0 */12 * * *"})
    )

    assert main(["scheduler", "--db", db, "--next", "3"]) == 0

    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3
    assert sum("full: full scan (supersedes incremental)" in line for line in lines) >= 1
    assert all(line.split()[1] in {"00:00", "12:00"} for line in lines)


@pytest.mark.parametrize(
    ("schedules", "message"),
    [
        ({"hourly": "0 * * * *"}, "schedule 'hourly': unknown scope 'hourly'"),
        ({"full": "0 25 * * *"}, "OPS_MONITOR_SCHEDULES.full: invalid cron expression"),
        ({}, "no schedules are configured"),
    ],
)
def test_bad_schedules_are_usage_errors(
    db: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    schedules: dict[str, str],
    message: str,
) -> None:
    monkeypatch.setenv("OPS_MONITOR_SCHEDULES", json.dumps(schedules))

    assert main(["scheduler", "--db", db]) == 2
    assert message in capsys.readouterr().err


def test_scheduler_process_catches_up_logs_json_and_stops_on_sigterm(db: str) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "ops_monitor", "scheduler", "--db", db],
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    lines: list[dict[str, object]] = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        if line.startswith("{"):
            lines.append(json.loads(line))
            if lines[-1]["event"] == "scan_finished":
                break
    process.send_signal(signal.SIGTERM)
    code = process.wait(timeout=20)
    rest = process.stderr.read()

    assert code == 0
    # The cron monitors' lines (the scan checking in as ops-monitor-full) interleave with these.
    scheduler_lines = [line for line in lines if not str(line["event"]).startswith("monitor_")]
    assert [line["event"] for line in scheduler_lines] == [
        "scheduler_started",
        "scan_started",
        "scan_finished",
    ]
    finished = lines[-1]
    assert (finished["schedule"], finished["catch_up"], finished["outcome"]) == (
        "full",
        True,
        "completed",
    )
    assert '"event": "scheduler_stopped"' in rest


def test_scheduler_command_in_process_runs_until_sigterm(db: str) -> None:
    """The same loop without a child process: SIGTERM from another thread stops it cleanly."""
    log = logging.getLogger("ops_monitor.scheduler")
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}

    def stop_after_first_scan() -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            store = Store(db)
            try:
                store.migrate()
                if OpsMonitorService(store).last_scan(status="completed") is not None:
                    break
            finally:
                store.close()
            time.sleep(0.05)
        os.kill(os.getpid(), signal.SIGTERM)

    stopper = threading.Thread(target=stop_after_first_scan)
    stopper.start()
    try:
        code = main(["scheduler", "--db", db])
    finally:
        stopper.join()
        for sig, action in previous.items():
            signal.signal(sig, action)
        for handler in list(log.handlers):
            log.removeHandler(handler)
        log.setLevel(logging.NOTSET)

    assert code == 0
    store = Store(db)
    try:
        last = OpsMonitorService(store).last_scan()
    finally:
        store.close()
    assert last is not None
    assert (last.trigger, last.status) == ("full", "completed")
