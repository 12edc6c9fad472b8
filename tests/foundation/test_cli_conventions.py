"""Every command follows one set of conventions: --version, --help with examples, exit 2."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

from readiness import cli as readiness_cli

COMMANDS = [["readiness"], ["ops-monitor"], ["readiness", "check"]]
# Every command and subcommand of both programs answers --version, whichever module defines it.
SUBCOMMANDS = [
    ["readiness", *name.split()]
    for name in (
        "report", "plan", "plan import", "plan init", "gate", "gate coverage", "runbooks",
        "tools", "tools install",
    )
] + [
    ["ops-monitor", *name.split()]
    for name in (
        "serve", "ingest", "scan", "issues", "resolve", "templates", "cron", "cron status",
        "scheduler", "config",
    )
]  # fmt: skip
MODULES = {"readiness": "readiness", "ops-monitor": "ops_monitor"}


def _module_argv(command: list[str]) -> list[str]:
    return [sys.executable, "-m", MODULES[command[0]], *command[1:]]


@pytest.mark.parametrize("command", COMMANDS + SUBCOMMANDS, ids=" ".join)
def test_version_is_the_installed_distributions(command: list[str]) -> None:
    result = subprocess.run(
        [*_module_argv(command), "--version"], capture_output=True, text=True, check=False
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split(", version ")[1].strip() == version("readiness-toolkit")


def test_sarif_names_the_installed_distributions_version(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "checks", str(tmp_path), "--format", "sarif", "--no-cache"],
        capture_output=True,
        text=True,
        check=False,
    )

    driver = json.loads(result.stdout)["runs"][0]["tool"]["driver"]
    assert driver["version"] == version("readiness-toolkit")


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_help_shows_examples(command: list[str]) -> None:
    result = subprocess.run(
        [*_module_argv(command), "--help"], capture_output=True, text=True, check=False
    )

    assert result.returncode == 0
    assert "Examples:" in result.stdout


@pytest.mark.parametrize("command", [["readiness"], ["ops-monitor"]], ids=" ".join)
def test_unknown_subcommand_is_a_one_line_usage_error(command: list[str]) -> None:
    result = subprocess.run(
        [*_module_argv(command), "no-such-command"], capture_output=True, text=True, check=False
    )

    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "no-such-command" in result.stderr
    assert "Traceback" not in result.stderr


def test_python_m_checks_is_readiness_check() -> None:
    direct = subprocess.run(
        [sys.executable, "-m", "checks", "--help"], capture_output=True, text=True, check=False
    )
    via_group = subprocess.run(
        [sys.executable, "-m", "readiness", "check", "--help"],
        capture_output=True,
        text=True,
        check=False,
    )

    assert direct.returncode == via_group.returncode == 0
    assert direct.stdout.split("\n", 1)[1] == via_group.stdout.split("\n", 1)[1]


def test_internal_errors_are_one_line_without_debug(capsys: pytest.CaptureFixture[str]) -> None:
    import click

    from checks.cli_support import run

    @click.command()
    def explode() -> None:
        raise RuntimeError("boom\nsecond line")

    status = run(explode, [], prog_name="explode")

    err = capsys.readouterr().err
    assert status == 3
    assert err.count("\n") == 1
    assert "RuntimeError: boom second line" in err
    assert "--debug" in err


def test_debug_shows_the_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    import click

    from checks.cli_support import run

    @click.command()
    @click.option("--debug", is_flag=True)
    def explode(debug: bool) -> None:
        raise RuntimeError("boom")

    status = run(explode, ["--debug"], prog_name="explode")

    assert status == 3
    assert "Traceback" in capsys.readouterr().err


def test_user_errors_exit_2() -> None:
    from checks.cli_support import UserError

    assert UserError.exit_code == 2
    assert readiness_cli.main(["--version"]) == 0
