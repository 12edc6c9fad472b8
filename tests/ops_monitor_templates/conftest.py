"""Fixtures for the template-mining tests: a fresh miner and a way to run the real CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from ops_monitor.analysis.templates import TemplateMiner

RunCli = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def miner() -> TemplateMiner:
    return TemplateMiner()


@pytest.fixture
def run_cli(tmp_path: Path) -> RunCli:
    """Run `python -m ops_monitor ARGS` in a child process, feeding `stdin`."""

    def run(
        *args: str, stdin: str | None = None, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "ops_monitor", *args],
            input=stdin,
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env={**os.environ, **(env or {})},
            timeout=60,
            check=False,
        )

    return run


def learn(miner: TemplateMiner, messages: Sequence[str]) -> list[str]:
    """Feed every message, then return each message's final template id."""
    for message in messages:
        miner.match(message)
    return [miner.resolve(miner.match(message).template_id) for message in messages]
