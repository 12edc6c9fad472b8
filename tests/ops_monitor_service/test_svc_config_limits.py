"""Settings that could never work are refused at load, naming the variable or key: ports outside
0..65535, non-finite numbers, windows that overflow, YAML booleans for numbers, unknown
OPS_MONITOR_* variables, a file that is not UTF-8."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ops_monitor.cli import main
from ops_monitor.commands.serve import load_settings as serve_settings
from ops_monitor.config import ConfigError, Settings


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [name for name in os.environ if name.startswith("OPS_MONITOR_")]:
        monkeypatch.delenv(name)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("OPS_MONITOR_PORT", "99999", "OPS_MONITOR_PORT: must be between 0 and 65535"),
        ("OPS_MONITOR_PORT", "-1", "OPS_MONITOR_PORT: must be between 0 and 65535"),
        ("OPS_MONITOR_PORT", "80.5", "OPS_MONITOR_PORT: expected a whole number"),
        ("OPS_MONITOR_SPIKE_FACTOR", "nan", "OPS_MONITOR_SPIKE_FACTOR: expected a finite number"),
        ("OPS_MONITOR_SPIKE_FACTOR", "inf", "OPS_MONITOR_SPIKE_FACTOR: expected a finite number"),
        ("OPS_MONITOR_SLOW_REQUEST_MS", "1e400", "SLOW_REQUEST_MS: expected a finite number"),
        ("OPS_MONITOR_RETENTION_DAYS", "100000000", "RETENTION_DAYS: must be at most 36500"),
        ("OPS_MONITOR_RETENTION_DAYS", "1" + "0" * 400, "RETENTION_DAYS: must be at most 36500"),
        ("OPS_MONITOR_CRON_GRACE_HOURS", "1e308", "CRON_GRACE_HOURS: must be at most 8760"),
        ("OPS_MONITOR_STARTING_DEADLINE_HOURS", "1e308", "DEADLINE_HOURS: must be at most 8760"),
        ("OPS_MONITOR_CRON_GRACE_HOURS", "0", "CRON_GRACE_HOURS: must be positive"),
        ("OPS_MONITOR_SPIKE_WINDOW_MINUTES", "1e12", "SPIKE_WINDOW_MINUTES: must be at most"),
        ("OPS_MONITOR_INGEST_BATCH_SIZE", "10000000", "INGEST_BATCH_SIZE: must be at most"),
        ("OPS_MONITOR_DB", "", "environment: OPS_MONITOR_DB: expected a non-empty string"),
        ("OPS_MONITOR_BOGUS", "1", "environment: unknown setting 'OPS_MONITOR_BOGUS'"),
    ],
)
def test_environment_values_that_cannot_work_are_refused_naming_the_variable(
    name: str, value: str, message: str
) -> None:
    with pytest.raises(ConfigError) as refused:
        Settings.load(environ={name: value})

    assert message in str(refused.value)
    assert "OPS_MONITOR_DB_URL" not in str(refused.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("retention_days: true\n", "retention_days: expected a number, got True"),
        ("port: false\n", "port: expected a number, got False"),
        ("spike_factor: yes\n", "spike_factor: expected a number, got True"),
        ("retention_days: 1.5\n", "retention_days: expected a whole number, got 1.5"),
        ("spike_factor: .nan\n", "spike_factor: expected a finite number"),
        ("slow_request_ms: .inf\n", "slow_request_ms: expected a finite number"),
        ("port: 70000\n", "port: must be between 0 and 65535"),
        ("retention_days: [1]\n", "retention_days: expected a number, got [1]"),
    ],
)
def test_file_values_that_cannot_work_are_refused_naming_the_key(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "ops.yaml"
    path.write_text(text)

    with pytest.raises(ConfigError) as refused:
        Settings.load(path, environ={})

    assert str(refused.value).startswith(f"{path}: ")
    assert message in str(refused.value)


def test_the_limits_themselves_are_accepted() -> None:
    settings = Settings.load(
        environ={
            "OPS_MONITOR_PORT": "65535",
            "OPS_MONITOR_RETENTION_DAYS": "36500",
            "OPS_MONITOR_CRON_GRACE_HOURS": "8760",
            "OPS_MONITOR_STARTING_DEADLINE_HOURS": "0.5",
            "OPS_MONITOR_SPIKE_FACTOR": "2.5",
        }
    )
    assert (settings.port, settings.retention_days) == (65535, 36500)
    assert (settings.cron_grace_hours, settings.starting_deadline_hours) == (8760.0, 0.5)
    assert Settings.load(environ={"OPS_MONITOR_PORT": "0"}).port == 0  # any free port


def test_variables_read_on_purpose_are_not_unknown(tmp_path: Path) -> None:
    config = tmp_path / "ops.yaml"
    config.write_text("retention_days: 7\n")
    env = {
        "OPS_MONITOR_CONFIG": str(config),
        "OPS_MONITOR_DB": "sqlite:///x.db",
        "OPS_MONITOR_TOKEN": "s3cret",
        "OPS_MONITOR_URL": "http://127.0.0.1:8787",
        "OPS_MONITOR_API_TOKEN": "other",  # named by --token-env
    }

    settings = Settings.load(environ=env, also_read=["OPS_MONITOR_API_TOKEN"])

    assert (settings.retention_days, settings.db_url, settings.token) == (
        7,
        "sqlite:///x.db",
        "s3cret",
    )
    with pytest.raises(ConfigError, match="unknown setting 'OPS_MONITOR_API_TOKEN'"):
        Settings.load(environ=env)


def test_serve_and_cron_status_accept_their_token_variable(
    clean_env: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OPS_MONITOR_API_TOKEN", "s3cret")

    settings = serve_settings(None, None, None, "OPS_MONITOR_API_TOKEN")
    code = main(
        [
            "cron",
            "status",
            "--url",
            "http://127.0.0.1:9",
            "--token-env",
            "OPS_MONITOR_API_TOKEN",
        ]
    )

    assert settings.token == "s3cret"
    assert code == 1  # nothing listens there: the usual one-line error, not an unknown variable
    assert "unknown setting" not in capsys.readouterr().err


def test_a_config_file_that_is_not_utf8_is_one_line_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "ops.yaml"
    path.write_bytes(b"retention_days: 7\n# caf\xe9\n")

    with pytest.raises(ConfigError) as refused:
        Settings.load(path, environ={})

    assert str(refused.value).startswith(f"{path}: not UTF-8 text")
    assert "\n" not in str(refused.value)


@pytest.mark.parametrize(
    ("argv", "name", "value", "message"),
    [
        (["cron", "status"], "OPS_MONITOR_CRON_GRACE_HOURS", "1e308", "must be at most 8760"),
        (["scan"], "OPS_MONITOR_RETENTION_DAYS", "100000000", "must be at most 36500"),
        (["issues"], "OPS_MONITOR_BOGUS", "1", "unknown setting 'OPS_MONITOR_BOGUS'"),
        (["issues"], "OPS_MONITOR_DB", "", "OPS_MONITOR_DB: expected a non-empty string"),
    ],
)
def test_commands_exit_2_with_one_line(
    clean_env: None,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    name: str,
    value: str,
    message: str,
) -> None:
    monkeypatch.setenv(name, value)

    code = main(argv)

    err = capsys.readouterr().err
    assert code == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1


def test_serve_refuses_a_port_beyond_65535_instead_of_listening_elsewhere() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPS_MONITOR_")}
    env["OPS_MONITOR_PORT"] = "99999"

    done = subprocess.run(  # before the fix it served (on another port) until killed
        [sys.executable, "-m", "ops_monitor", "serve", "--db", "sqlite://"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.returncode == 2
    assert done.stderr == (
        "ops-monitor: error: environment: OPS_MONITOR_PORT: must be between 0 and 65535, "
        "got '99999'\n"
    )


def test_a_non_utf8_config_file_stops_a_real_process_with_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "ops.yaml"
    path.write_bytes(b"\xff\xfeport: 1\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPS_MONITOR_")}
    env["OPS_MONITOR_CONFIG"] = str(path)

    done = subprocess.run(
        [sys.executable, "-m", "ops_monitor", "issues"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.returncode == 2
    assert done.stderr.startswith(f"ops-monitor: error: {path}: not UTF-8 text")
    assert len(done.stderr.strip().splitlines()) == 1
