"""`ops-monitor serve` refuses to listen beyond loopback without a token, in one line, exit 2."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ops_monitor.cli import main
from ops_monitor.client import Health, MonitorError, MonitorUnavailable, OpsMonitorClient
from ops_monitor.commands.serve import build_app, is_loopback, load_settings
from ops_monitor.config import Settings

from .live_server import live_server


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.5.0.1", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.4", False),
        ("monitor.internal", False),
    ],
)
def test_loopback_hosts_are_recognised(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_serving_on_all_interfaces_without_a_token_is_refused(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("OPS_MONITOR_TOKEN", raising=False)

    status = main(["serve", "--host", "0.0.0.0", "--db", "sqlite:///unused.db"])

    err = capsys.readouterr().err
    assert status == 2
    assert err.count("\n") == 1
    assert "refusing to listen on 0.0.0.0 without a token: set OPS_MONITOR_TOKEN" in err


def test_the_token_variable_can_be_renamed(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("OPS_MONITOR_TOKEN", raising=False)
    monkeypatch.delenv("MONITOR_TOKEN", raising=False)

    status = main(["serve", "--host", "10.0.0.5", "--token-env", "MONITOR_TOKEN"])
    monkeypatch.setenv("MONITOR_TOKEN", "s3cret")
    settings = load_settings("sqlite:///x.db", "10.0.0.5", 9000, "MONITOR_TOKEN")

    assert status == 2
    assert "set MONITOR_TOKEN" in capsys.readouterr().err
    assert (settings.token, settings.host, settings.port, settings.db_url) == (
        "s3cret",
        "10.0.0.5",
        9000,
        "sqlite:///x.db",
    )


def test_help_shows_examples(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--help"]) == 0
    assert "Examples:" in capsys.readouterr().out


def test_a_bad_configuration_value_is_one_line_naming_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OPS_MONITOR_MAX_PUSH_BYTES", "lots")

    status = main(["serve"])

    assert status == 2
    assert "OPS_MONITOR_MAX_PUSH_BYTES" in capsys.readouterr().err


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_until_up(client: OpsMonitorClient, server: subprocess.Popen[bytes]) -> Health:
    deadline = time.monotonic() + 60  # a loaded machine starts Python slowly
    while True:
        try:
            return client.health()
        except MonitorUnavailable:
            if server.poll() is not None or time.monotonic() > deadline:
                raise
            time.sleep(0.1)


@pytest.mark.slow  # a real process: interpreter start, imports, migrations, scheduler catch-up
def test_serve_runs_the_api_with_the_cron_route_and_a_token(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPS_MONITOR_")}
    env["OPS_MONITOR_TOKEN"] = "s3cret"
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ops_monitor",
            "serve",
            "--db",
            f"sqlite:///{tmp_path / 'ops.db'}",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        with OpsMonitorClient(
            f"http://127.0.0.1:{port}",
            token="s3cret",
        ) as ok:
            assert wait_until_up(ok, server).status == "ok"
            schedules = {s.name: s for s in ok.cron_status()}
            pushed = ok.push_logs([{"timestamp": time.time(), "message": "boot", "level": "info"}])
        with (
            OpsMonitorClient(f"http://127.0.0.1:{port}") as anonymous,
            pytest.raises(MonitorError) as refused,
        ):
            anonymous.cron_status()
    finally:
        server.terminate()
        _, stderr = server.communicate(timeout=30)

    assert set(schedules) == {"full", "incremental"}
    assert schedules["full"].expression == "0 2 * * *"
    assert pushed.accepted == 1
    assert refused.value.status == 401
    assert b"Traceback" not in stderr


def test_the_served_app_reports_cron_health_from_the_configured_schedules(tmp_path: Path) -> None:
    settings = Settings(
        db_url=f"sqlite:///{tmp_path / 'ops.db'}",
        schedules={"full": "30 3 * * *", "incremental": "*/15 * * * *"},
    )
    with live_server(build_app(settings)) as server, OpsMonitorClient(server.url) as client:
        schedules = {s.name: s.expression for s in client.cron_status()}

    assert schedules == {"full": "30 3 * * *", "incremental": "*/15 * * * *"}
