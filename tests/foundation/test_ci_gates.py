"""The gates cannot pass without running: a skip fails under CI=true, and .ci/run runs them all."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PLUGIN = "tools.pytest_ci"
SKIPPING_TEST = """
import pytest

def test_needs_a_service() -> None:
    pytest.skip("PostgreSQL on 127.0.0.1:5432 is unreachable: connection refused")
"""


def _run_suite(directory: Path, ci: str | None) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key != "CI"}
    env["PYTHONPATH"] = str(ROOT)
    if ci is not None:
        env["CI"] = ci
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", PLUGIN, "-q", "."],
        capture_output=True,
        text=True,
        check=False,
        env=env,
        cwd=directory,
    )


@pytest.fixture
def suite_with_a_skip(tmp_path: Path) -> Path:
    (tmp_path / "test_service.py").write_text(SKIPPING_TEST)
    return tmp_path


def test_this_suite_runs_with_the_ci_plugin(pytestconfig: pytest.Config) -> None:
    assert pytestconfig.pluginmanager.has_plugin(PLUGIN)


def test_under_ci_a_missing_service_fails_the_run_and_names_itself(suite_with_a_skip: Path) -> None:
    result = _run_suite(suite_with_a_skip, ci="true")

    assert result.returncode == 1
    assert "1 failed" in result.stdout
    assert "PostgreSQL on 127.0.0.1:5432 is unreachable" in result.stdout


def test_outside_ci_a_missing_service_is_a_skip_with_its_reason(suite_with_a_skip: Path) -> None:
    result = _run_suite(suite_with_a_skip, ci=None)

    assert result.returncode == 0
    assert "1 skipped" in result.stdout


def test_ci_runs_the_readme_test_command_and_that_runs_every_gate() -> None:
    readme_commands = [
        line for line in (ROOT / "README.md").read_text().splitlines()[:6] if "nox" in line
    ]
    test_command = readme_commands[1].split("&&")[1].split("#")[0].strip()
    ci_script = (ROOT / ".ci" / "run").read_text()
    noxfile = (ROOT / "noxfile.py").read_text()

    assert test_command == "python3 -m nox"
    assert ci_script.rstrip().endswith(test_command)
    assert 'nox.options.sessions = ["lint", "typecheck", "tests"]' in noxfile
