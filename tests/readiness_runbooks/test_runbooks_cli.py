"""`readiness runbooks` end to end: the real monitor configuration, real files, real exit codes."""

from __future__ import annotations

import json
import shutil
import stat
from pathlib import Path
from typing import Any

import pytest

from readiness.runbooks import (
    RunbookConfigError,
    parse_monitor_facts,
    read_monitor_config,
)

from .conftest import REPO_ROOT, monitor_env, run_readiness

COMMITTED = REPO_ROOT / "runbooks"


def fake_python(tmp_path: Path, script: str) -> str:
    """An interpreter stand-in for a monitor whose config command misbehaves."""
    path = tmp_path / "python"
    path.write_text(f"#!/bin/sh\n{script}\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


def test_committed_runbooks_are_fresh() -> None:
    result = run_readiness("runbooks", "--check", cwd=REPO_ROOT)

    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""
    assert "3 runbooks are up to date" in result.stderr


def test_check_fails_with_a_diff_after_the_cron_configuration_changes() -> None:
    schedules = json.dumps({"full": "30 1 * * *", "incremental": "0 */4 * * *"})
    env = monitor_env(OPS_MONITOR_SCHEDULES=schedules)

    result = run_readiness("runbooks", "--check", cwd=REPO_ROOT, env=env)

    assert result.returncode == 1
    assert f"--- {Path('runbooks') / 'cron-monitoring.md'} (committed)" in result.stdout
    assert "-| `full` | `0 2 * * *` | full | every day at 02:00 |" in result.stdout
    assert "+| `full` | `30 1 * * *` | full | every day at 01:30 |" in result.stdout
    assert "stale runbooks: runbooks/cron-monitoring.md" in result.stderr


def test_an_invalid_cron_configuration_is_a_usage_error() -> None:
    env = monitor_env(OPS_MONITOR_SCHEDULES=json.dumps({"full": "0 25 * * *"}))

    result = run_readiness("runbooks", "--check", cwd=REPO_ROOT, env=env)

    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "full" in result.stderr
    assert "Traceback" not in result.stderr


def test_render_writes_missing_runbooks_then_reports_them_fresh(tmp_path: Path) -> None:
    out = tmp_path / "docs"

    first = run_readiness("runbooks", "--out", str(out), cwd=REPO_ROOT)
    second = run_readiness("runbooks", "--out", str(out), "--check", cwd=REPO_ROOT)

    assert first.returncode == 0, first.stderr
    assert sorted(p.name for p in out.iterdir()) == [
        "checks.md",
        "cron-monitoring.md",
        "ops-monitor.md",
    ]
    for name in ("checks.md", "cron-monitoring.md", "ops-monitor.md"):
        assert (out / name).read_text() == (COMMITTED / name).read_text()
    assert second.returncode == 0


def test_check_reports_a_missing_runbook(tmp_path: Path) -> None:
    shutil.copytree(COMMITTED, tmp_path / "runbooks")
    (tmp_path / "runbooks" / "ops-monitor.md").unlink()

    result = run_readiness(
        "runbooks", "--check", "--out", str(tmp_path / "runbooks"), cwd=REPO_ROOT
    )

    assert result.returncode == 1
    assert result.stdout.startswith("--- /dev/null\n")
    assert "ops-monitor.md" in result.stderr


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
