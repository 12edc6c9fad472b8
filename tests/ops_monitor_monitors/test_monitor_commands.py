"""`ops-monitor monitors ...` on a real database and against a real server; the `monitors:`
setting; the monitor's own schedules checking in."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from ops_monitor_api.live_server import live_server
from prometheus_client import CollectorRegistry

from ops_monitor.cli import main
from ops_monitor.commands.serve import build_app
from ops_monitor.config import ConfigError, Settings
from ops_monitor.monitors.config import parse_monitor_config
from ops_monitor.monitors.service import CronMonitors
from ops_monitor.scheduling.monitoring import CheckingInService, declarer
from ops_monitor.scheduling.runtime import build_scheduler
from ops_monitor.scheduling.schedules import parse_schedules
from ops_monitor.service import OpsMonitorService
from ops_monitor.store import Store


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("OPS_MONITOR_"):
            monkeypatch.delenv(name)


@pytest.fixture
def database(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'ops.db'}"
    store = Store(url)
    store.migrate()
    monitors = CronMonitors(store)
    hourly = parse_monitor_config({"schedule": "0 * * * *"})
    monitors.declare("healthy", hourly)
    monitors.check_in("healthy", "ok", duration=3)
    monitors.declare("broken", hourly, since=datetime.now(UTC) - timedelta(hours=3))
    monitors.evaluate()
    store.close()
    return url


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_list_shows_every_monitor_and_fails_on_a_missed_one(
    database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(["monitors", "list", "--db", database], capsys)

    assert code == 1
    assert "broken" in out
    assert "missed" in out
    assert "healthy" in out


def test_show_prints_the_key_and_the_check_ins_as_json(
    database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(["monitors", "show", "healthy", "--db", database, "--json"], capsys)

    shown = json.loads(out)
    assert code == 0
    assert shown["state"] == "ok"
    assert shown["checkins"][0]["duration"] == 3
    assert len(shown["ping_key"]) >= 20


def test_pause_and_resume_from_the_command_line(
    database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    paused, out, _ = run(["monitors", "pause", "broken", "--db", database], capsys)
    listed, table, _ = run(["monitors", "list", "--db", database, "--json"], capsys)
    resumed, said, _ = run(["monitors", "resume", "broken", "--db", database], capsys)

    assert (paused, out) == (0, "paused broken\n")
    assert {m["slug"]: m["state"] for m in json.loads(table)} == {
        "broken": "paused",
        "healthy": "ok",
    }
    assert listed == 0
    assert resumed == 0
    assert said.startswith("resumed broken: next run expected ")


def test_an_unknown_monitor_is_one_line_and_exit_1(
    database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(["monitors", "show", "nobody", "--db", database], capsys)

    assert code == 1
    assert err == "ops-monitor: error: monitor 'nobody' does not exist\n"


def test_the_commands_talk_to_a_running_monitor(
    database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    app = build_app(Settings(db_url=database, scheduler_enabled=False))
    with live_server(app) as server:
        code, out, _ = run(["monitors", "list", "--url", server.url, "--json"], capsys)
        paused, _, _ = run(["monitors", "pause", "healthy", "--url", server.url], capsys)
        missing, _, err = run(["monitors", "show", "nobody", "--url", server.url], capsys)

    assert code == 1
    assert sorted(m["slug"] for m in json.loads(out)) == ["broken", "healthy"]
    assert paused == 0
    assert missing == 1
    assert "monitor 'nobody' does not exist" in err


def test_configured_monitors_are_declared_at_start(tmp_path: Path) -> None:
    settings = Settings(
        db_url=f"sqlite:///{tmp_path / 'ops.db'}",
        scheduler_enabled=False,
        monitors=({"slug": "billing-nightly", "schedule": "0 3 * * *", "timezone": "Asia/Tokyo"},),
    )
    store = Store(settings.db_url)
    store.migrate()
    monitors = CronMonitors(store)

    declarer(monitors, settings, parse_schedules(None))()

    found = {m.slug: m for m in monitors.monitors()}
    assert set(found) == {"billing-nightly", "ops-monitor-full", "ops-monitor-incremental"}
    assert found["billing-nightly"].origin == "config"
    assert found["billing-nightly"].config["timezone"] == "Asia/Tokyo"
    assert found["ops-monitor-full"].origin == "self"
    store.close()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ([{"schedule": "0 3 * * *"}], "ops.yaml: monitors[0].slug: None must be"),
        ([{"slug": "a", "schedule": "0 3 * *"}], "ops.yaml: monitors[0].schedule: '0 3 * *' has"),
        ([{"slug": "a"}], "ops.yaml: monitors[0]: schedule is required"),
        ({"slug": "a"}, "ops.yaml: monitors: expected a list of monitors"),
        (
            [{"slug": "a", "schedule": "* * * * *"}, {"slug": "a", "schedule": "* * * * *"}],
            "ops.yaml: monitors[1].slug: 'a' is declared twice",
        ),
    ],
)
def test_a_bad_monitors_setting_names_the_entry_and_field(value: object, message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        Settings().merged({"monitors": value}, "ops.yaml")

    assert str(raised.value).startswith(message)


def test_the_monitors_setting_reads_json_from_the_environment() -> None:
    environ = {
        "OPS_MONITOR_MONITORS": '[{"slug": "x", "schedule": {"interval": 5, "unit": "minute"}}]'
    }

    settings = Settings.load(environ=environ)

    assert settings.monitors == ({"slug": "x", "schedule": {"interval": 5, "unit": "minute"}},)


def test_scheduled_scans_check_in_as_the_monitor_s_own_monitors(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'ops.db'}")
    store.migrate()
    now = [datetime(2026, 3, 2, 1, 0, tzinfo=UTC)]
    service = OpsMonitorService(store, clock=lambda: now[0])
    monitors = CronMonitors(store, clock=lambda: now[0])
    schedules = parse_schedules(None)
    declarer(monitors, Settings(), schedules)()  # declared at 01:00
    now[0] = datetime(2026, 3, 2, 2, 0, 30, tzinfo=UTC)
    scheduler = build_scheduler(
        CheckingInService(service, monitors, schedules),
        store,
        schedules,
        registry=CollectorRegistry(),
        clock=lambda: now[0],
        sleep=lambda seconds: None,
    )

    scheduler.begin()  # no full scan ever: it catches up at once

    full = monitors.monitor("ops-monitor-full")
    assert full.state == "ok"
    ((run),) = full.checkins
    assert run.status == "ok"
    assert run.slot == datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
    assert monitors.monitor("ops-monitor-incremental").checkins == []
    store.close()
