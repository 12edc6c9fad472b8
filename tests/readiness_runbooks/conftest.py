"""Fixtures for the runbook and shipped-plan tests: real subprocesses, real files in tmp_path."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


def monitor_env(**overrides: str) -> dict[str, str]:
    """This process's environment without any OPS_MONITOR_* setting, plus the given ones."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("OPS_MONITOR_")}
    env.update(overrides)
    return env


@pytest.fixture(scope="session")
def default_monitor_config() -> dict[str, Any]:
    """What `ops-monitor config --json` prints with no configuration at all."""
    completed = subprocess.run(
        [sys.executable, "-m", "ops_monitor", "config", "--json"],
        cwd=REPO_ROOT,
        env=monitor_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    data: dict[str, Any] = json.loads(completed.stdout)
    return data
