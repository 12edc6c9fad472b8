"""`readiness runbooks` end to end: the real monitor configuration, real files, real exit codes."""

from __future__ import annotations

import json
import os
import shutil
import stat
from pathlib import Path
from typing import Any

import pytest

from readiness.cli import main
from readiness.runbooks.facts import (
    RunbookConfigError,
    parse_monitor_facts,
    read_monitor_config,
)

from .conftest import REPO_ROOT, monitor_env

COMMITTED = REPO_ROOT / "runbooks"
# Each of these runs `ops-monitor config --json` in a fresh interpreter: seconds, not milliseconds.
SPAWNS_THE_MONITOR_CONFIG = pytest.mark.slow


def fake_python(tmp_path: Path, script: str) -> str:
    """An interpreter stand-in for a monitor whose config command misbehaves."""
    path = tmp_path / "python"
    path.write_text(f"#!/bin/sh\n{script}\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


@pytest.fixture
def clean_monitor_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No OPS_MONITOR_* setting of the machine leaks into the configuration the runbooks read."""
    for key in [key for key in os.environ if key.startswith("OPS_MONITOR_")]:
        monkeypatch.delenv(key)
    return monkeypatch


def readiness(*args: str) -> int:
    """The `readiness` command in-process, exactly as its console script runs it."""
    return main(list(args))


@SPAWNS_THE_MONITOR_CONFIG
def test_committed_runbooks_are_fresh(
    clean_monitor_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    clean_monitor_env.chdir(REPO_ROOT)

    status = readiness("runbooks", "--check")

    out, err = capsys.readouterr()
    assert status == 0, out + err
    assert out == ""
    assert err == "3 runbooks are up to date\n"


@SPAWNS_THE_MONITOR_CONFIG
def test_check_fails_with_a_diff_after_the_cron_configuration_changes(
    clean_monitor_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    schedules = {"full": "30 1 * * *", "incremental": "0 */4 * * *"}
    clean_monitor_env.setenv("OPS_MONITOR_SCHEDULES", json.dumps(schedules))
    clean_monitor_env.chdir(REPO_ROOT)

    status = readiness("runbooks", "--check")

    out, err = capsys.readouterr()
    assert status == 1
    assert f"--- {Path('runbooks') / 'cron-monitoring.md'} (committed)" in out
    assert "-| `full` | `0 2 * * *` | full | every day at 02:00 |" in out
    assert "+| `full` | `30 1 * * *` | full | every day at 01:30 |" in out
    assert "stale runbooks: runbooks/cron-monitoring.md " in err


@SPAWNS_THE_MONITOR_CONFIG
def test_an_invalid_cron_in_the_monitors_config_file_is_a_usage_error(
    tmp_path: Path, clean_monitor_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config_file = tmp_path / "ops-monitor.yaml"
    config_file.write_text("schedules:\n  full: '0 25 * * *'\n")
    clean_monitor_env.setenv("OPS_MONITOR_CONFIG", str(config_file))

    status = readiness("runbooks", "--check", "--root", str(REPO_ROOT))

    err = capsys.readouterr().err
    assert status == 2
    assert err.count("\n") == 1
    assert str(config_file) in err
    assert "full" in err
    assert "Traceback" not in err


@SPAWNS_THE_MONITOR_CONFIG
def test_a_missing_runbook_fails_the_check_and_rendering_restores_it(
    tmp_path: Path, clean_monitor_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "runbooks"
    shutil.copytree(COMMITTED, out)
    (out / "ops-monitor.md").unlink()
    clean_monitor_env.chdir(REPO_ROOT)

    checked = readiness("runbooks", "--check", "--out", str(out))
    check_out, check_err = capsys.readouterr()
    rendered = readiness("runbooks", "--out", str(out))
    render_err = capsys.readouterr().err

    assert checked == 1
    assert check_out.startswith("--- /dev/null\n")
    assert check_out.count("\n+++ ") == 1  # the two others are fresh
    assert "ops-monitor.md" in check_err
    assert rendered == 0
    assert render_err == f"wrote {out / 'ops-monitor.md'}\n"
    for name in ("checks.md", "cron-monitoring.md", "ops-monitor.md"):
        assert (out / name).read_text() == (COMMITTED / name).read_text()


@SPAWNS_THE_MONITOR_CONFIG
def test_runbooks_say_what_the_monitor_is_configured_with(
    default_monitor_config: dict[str, Any],
) -> None:
    facts = parse_monitor_facts(default_monitor_config)
    cron = (COMMITTED / "cron-monitoring.md").read_text()
    monitor = (COMMITTED / "ops-monitor.md").read_text()

    assert [(s.name, s.expression) for s in facts.schedules] == [
        ("full", "0 2 * * *"),
        ("incremental", "0 */4 * * *"),
    ]
    for metric in facts.metrics:
        assert f"`{metric.name}`" in cron
    for route in facts.routes:
        assert f"`{route.path}`" in monitor


@pytest.mark.parametrize(
    ("script", "message"),
    [
        ("echo 'bad setting' >&2; exit 2", "failed: bad setting"),
        ("exit 3", "failed: exit status 3"),
        ("echo '{not json'", "printed invalid JSON"),
        ("echo '[1, 2]'", "must print a JSON object"),
    ],
)
def test_a_misbehaving_config_command_is_a_one_line_config_error(
    tmp_path: Path, script: str, message: str
) -> None:
    with pytest.raises(RunbookConfigError, match=message):
        read_monitor_config(tmp_path, monitor_env(), python=fake_python(tmp_path, script))


def test_a_missing_interpreter_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(RunbookConfigError, match="could not run"):
        read_monitor_config(tmp_path, monitor_env(), python=str(tmp_path / "absent"))
