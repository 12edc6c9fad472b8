"""Settings: defaults, a YAML or TOML file, OPS_MONITOR_* variables; errors name the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from ops_monitor.config import DEFAULT_SCHEDULES, ConfigError, Settings, mask_password


def test_defaults_use_a_local_sqlite_file_and_the_dual_cadence(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    settings = Settings.load(environ={})
    assert settings.db_url == f"sqlite:///{tmp_path / 'ops-monitor.db'}"
    assert (
        dict(settings.schedules)
        == DEFAULT_SCHEDULES
        == {"full": "0 2 * * *", "incremental": "0 */4 * * *"}
    )
    assert settings.retention_days == 30


def test_a_yaml_file_then_the_environment_override_defaults(tmp_path: Path) -> None:
    path = tmp_path / "ops.yaml"
    path.write_text("retention_days: 7\nschedules:\n  full: '30 3 * * *'\nport: 9000\n")
    env = {
        "OPS_MONITOR_PORT": "9100",
        "OPS_MONITOR_DB": "sqlite:///x.db",
        "OPS_MONITOR_SCHEDULER_ENABLED": "false",
    }

    settings = Settings.load(path, environ=env)

    assert (settings.retention_days, settings.port) == (7, 9100)
    assert dict(settings.schedules) == {"full": "30 3 * * *"}
    assert settings.db_url == "sqlite:///x.db"
    assert settings.scheduler_enabled is False


def test_a_toml_file_named_by_the_environment(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text('[tool.ops-monitor]\nslow_request_ms = 250\ntoken = "t"\n')
    settings = Settings.load(environ={"OPS_MONITOR_CONFIG": str(path)})
    assert (settings.slow_request_ms, settings.token) == (250.0, "t")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("colour: blue\n", "ops.yaml: unknown setting 'colour'"),
        ("retention_days: soon\n", "ops.yaml: retention_days: expected a number"),
        ("retention_days: 0\n", "retention_days: must be positive"),
        ("schedules:\n  full: '61 * * * *'\n", "ops.yaml: schedules.full: invalid cron"),
        ("schedules: [1]\n", "schedules: expected a mapping"),
        ("schedules:\n  full: ''\n", "schedules.full: expected a cron expression"),
        (
            "schedules:\n  deep: {cron: '0 3 * * *', scope: deep}\n",
            "schedules.deep: schedule 'deep': unknown scope 'deep'",
        ),
        (
            "schedules:\n  deep: {cron: '0 25 * * *', scope: full}\n",
            "schedules.deep: schedule 'deep': bad hour field '25'",
        ),
        (
            "schedules:\n  deep: {when: '0 3 * * *'}\n",
            "schedules.deep: schedule 'deep': unknown key 'when'",
        ),
        ("host: ''\n", "host: expected a non-empty string"),
        ("db_url: 'not a url'\n", "db_url: not a database URL"),
        ("- a list\n", "the top level must be a mapping"),
        ("a: [\n", "not valid yaml"),
    ],
)
def test_file_errors_name_the_file_and_field(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "ops.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("*", r"\*")):
        Settings.load(path, environ={})


def test_environment_errors_name_the_variable(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="environment: OPS_MONITOR_SCHEDULES: expected a JSON"):
        Settings.load(environ={"OPS_MONITOR_SCHEDULES": "{nope"})
    with pytest.raises(ConfigError, match="OPS_MONITOR_SCHEDULER_ENABLED: expected true or false"):
        Settings.load(environ={"OPS_MONITOR_SCHEDULER_ENABLED": "maybe"})
    with pytest.raises(ConfigError, match="cannot read"):
        Settings.load(tmp_path / "missing.yaml", environ={})
    schedules = Settings.load(environ={"OPS_MONITOR_SCHEDULES": '{"full": "0 * * * *"}'})
    assert dict(schedules.schedules) == {"full": "0 * * * *"}
    with pytest.raises(ConfigError, match=r"SCHEDULES\.hourly: schedule 'hourly': unknown scope"):
        Settings.load(environ={"OPS_MONITOR_SCHEDULES": '{"hourly": "0 * * * *"}'})


def test_a_schedule_may_name_its_scope(tmp_path: Path) -> None:
    path = tmp_path / "ops.yaml"
    path.write_text(
        "schedules:\n  nightly: {cron: '0 3  * * *', scope: full}\n  incremental: '*/30 * * * *'\n"
    )

    settings = Settings.load(path, environ={})

    assert dict(settings.schedules) == {
        "nightly": {"cron": "0 3 * * *", "scope": "full"},
        "incremental": "*/30 * * * *",
    }


def test_passwords_are_masked_for_printing() -> None:
    settings = Settings(db_url="postgresql+psycopg://ops:s3cret@db:5432/ops")
    assert settings.public_db_url() == "postgresql+psycopg://ops:***@db:5432/ops"
    assert mask_password("::::") == "<unparseable url>"
    assert settings.as_dict()["port"] == 8787
