"""A database that cannot be used is one line naming it (password masked) and why, exit 2: a bad
URL, an unreachable server, a path that cannot be opened, a file that is not a database, a
missing directory, an in-memory database where it makes no sense. Never "internal error"."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from ops_monitor.cli import main
from ops_monitor.config import Settings
from ops_monitor.store import Store

DOWN = "postgresql+psycopg://postgres:hunter2@127.0.0.1:1/test"  # nothing listens on port 1
LOCAL_COMMANDS = [
    ["ingest", "/dev/null", "--no-progress"],
    ["issues"],
    ["scan"],
    ["resolve", "1", "fixed"],
    ["cron", "status"],
]


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [name for name in os.environ if name.startswith("OPS_MONITOR_")]:
        monkeypatch.delenv(name)


@pytest.fixture
def not_a_database(tmp_path: Path) -> str:
    path = tmp_path / "notes.db"
    path.write_text("these are notes, not a database\n")
    return f"sqlite:///{path}"


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(argv)
    err = capsys.readouterr().err
    return code, err


def assert_one_line(err: str) -> None:
    assert len(err.strip().splitlines()) == 1, err
    assert err.startswith("ops-monitor: error: ")
    assert "internal error" not in err
    assert "Background on this error" not in err
    assert "Traceback" not in err


@pytest.mark.parametrize("argv", LOCAL_COMMANDS, ids=lambda argv: argv[0])
def test_a_bad_url_names_the_option(
    clean_env: None, argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = run([*argv, "--db", "notaurl"], capsys)

    assert code == 2
    assert_one_line(err)
    assert "--db: not a database URL: 'notaurl'" in err


@pytest.mark.parametrize("argv", LOCAL_COMMANDS, ids=lambda argv: argv[0])
def test_an_unreachable_server_is_one_line_with_the_password_masked(
    clean_env: None, argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = run([*argv, "--db", DOWN], capsys)

    assert code == 2
    assert_one_line(err)
    assert "database postgresql+psycopg://postgres:***@127.0.0.1:1/test cannot be opened" in err
    assert "hunter2" not in err


@pytest.mark.parametrize("argv", LOCAL_COMMANDS, ids=lambda argv: argv[0])
def test_a_file_that_is_not_a_database_is_one_line(
    clean_env: None, argv: list[str], not_a_database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = run([*argv, "--db", not_a_database], capsys)

    assert code == 2
    assert_one_line(err)
    assert "cannot be opened: file is not a database" in err


def test_a_path_that_cannot_be_opened_is_one_line(
    clean_env: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = run(["issues", "--db", f"sqlite:///{tmp_path}"], capsys)  # a directory

    assert code == 2
    assert_one_line(err)
    assert "cannot be opened: unable to open database file" in err


@pytest.mark.parametrize("argv", LOCAL_COMMANDS, ids=lambda argv: argv[0])
def test_a_missing_directory_is_named_and_not_created(
    clean_env: None, argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "typo" / "dir"

    code, err = run([*argv, "--db", f"sqlite:///{missing / 'ops.db'}"], capsys)

    assert code == 2
    assert_one_line(err)
    assert f"directory {missing} does not exist" in err
    assert not (tmp_path / "typo").exists()


@pytest.mark.parametrize("argv", LOCAL_COMMANDS, ids=lambda argv: argv[0])
@pytest.mark.parametrize("memory", ["sqlite://", "sqlite:///:memory:"])
def test_an_in_memory_database_is_refused_where_it_would_vanish(
    clean_env: None, argv: list[str], memory: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = run([*argv, "--db", memory], capsys)

    assert code == 2
    assert_one_line(err)
    assert "is in memory and would vanish" in err


def test_ingest_into_memory_no_longer_reports_records_it_then_drops(
    clean_env: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    logs = tmp_path / "app.jsonl"
    logs.write_text('{"timestamp": "2026-06-01T10:00:00Z", "message": "hello"}\n')

    code = main(["ingest", str(logs), "--no-progress", "--db", "sqlite://"])

    out, err = capsys.readouterr()
    assert code == 2
    assert "ingested" not in out
    assert "`ops-monitor ingest`" in err


def test_the_default_database_file_is_still_created_in_the_working_directory(
    clean_env: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)

    assert main(["issues"]) == 0
    assert (tmp_path / "ops-monitor.db").is_file()


def test_the_store_refuses_what_it_cannot_open_with_typed_errors(
    tmp_path: Path, not_a_database: str
) -> None:
    from ops_monitor.store.database import DatabaseUnavailable, DatabaseURLError

    with pytest.raises(DatabaseURLError, match="unknown kind of database 'nosuchdb'"):
        Store("nosuchdb://host/x")
    with pytest.raises(DatabaseURLError, match=r"directory .*absent does not exist"):
        Store(f"sqlite:///{tmp_path / 'absent' / 'ops.db'}")
    with pytest.raises(DatabaseUnavailable, match="file is not a database"):
        Store.open(not_a_database)
    store = Store.open(f"sqlite:///{tmp_path / 'ops.db'}")  # a missing file is created
    store.close()
    assert (tmp_path / "ops.db").is_file()


def test_the_database_going_away_mid_command_is_one_line(tmp_path: Path) -> None:
    from ops_monitor.commands.local import DatabaseProblem, open_service

    settings = Settings(db_url=f"sqlite:///{tmp_path / 'ops.db'}")

    def issues_after_the_table_went() -> None:
        with open_service(settings) as service:
            with service.store.write() as connection:
                connection.execute(text("DROP TABLE ops_issues"))
            service.open_issues()

    with pytest.raises(DatabaseProblem) as problem:
        issues_after_the_table_went()

    assert problem.value.exit_code == 2
    assert "became unavailable: no such table: ops_issues" in problem.value.message


def _environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPS_MONITOR_")}
    env["PYTHONUNBUFFERED"] = "1"
    return env


@pytest.mark.parametrize("db", [DOWN, "not-a-db-file"])
def test_serve_without_a_usable_database_is_one_line_and_exit_2(
    db: str, not_a_database: str
) -> None:
    url = not_a_database if db == "not-a-db-file" else db

    done = subprocess.run(
        [sys.executable, "-m", "ops_monitor", "serve", "--db", url, "--port", "0"],
        env=_environment(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.returncode == 2
    assert_one_line(done.stderr)
    assert "cannot be opened" in done.stderr
    assert "hunter2" not in done.stderr


def test_the_scheduler_refuses_an_in_memory_database() -> None:
    done = subprocess.run(  # before the fix it ran, on a database nobody else could see
        [sys.executable, "-m", "ops_monitor", "scheduler", "--db", "sqlite://"],
        env=_environment(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.returncode == 2
    assert_one_line(done.stderr)
    assert "is in memory and would vanish when `ops-monitor scheduler` exits" in done.stderr


def test_the_scheduler_refuses_a_file_that_is_not_a_database(not_a_database: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "ops_monitor", "scheduler", "--db", not_a_database],
        env=_environment(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.returncode == 2
    assert_one_line(done.stderr)
    assert "file is not a database" in done.stderr


def test_the_scheduler_keeps_running_while_its_database_server_is_down() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "ops_monitor", "scheduler", "--db", DOWN],
        env=_environment(),
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    lines: list[dict[str, object]] = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and process.poll() is None:
        line = process.stderr.readline()
        lines.append(json.loads(line))  # every line is one JSON object
        if lines[-1]["event"] == "tick_failed":
            break
    alive = process.poll() is None
    process.send_signal(signal.SIGTERM)
    code = process.wait(timeout=20)
    rest = [json.loads(line) for line in process.stderr.read().splitlines()]

    assert alive
    assert code == 0
    # The cron monitors' evaluation fails alongside, in its own lines (`monitor_...`).
    monitor_lines = [line for line in lines + rest if str(line["event"]).startswith("monitor_")]
    lines = [line for line in lines if line not in monitor_lines]
    rest = [line for line in rest if line not in monitor_lines]
    assert [line["event"] for line in lines] == [
        "database_unavailable",
        "scheduler_started",
        "tick_failed",  # its start (and catch-up) wait for the next tick
    ]
    assert lines[0]["db"] == "postgresql+psycopg://postgres:***@127.0.0.1:1/test"
    assert "Connection refused" in str(lines[0]["error"])
    assert "hunter2" not in json.dumps(lines + rest + monitor_lines)
    assert [line["event"] for line in rest] == ["scheduler_stopped"]
