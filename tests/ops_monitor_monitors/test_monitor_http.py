"""Both check-in styles over real HTTP, against the server `ops-monitor serve` runs, on SQLite and
PostgreSQL: Sentry-style check-ins with the bearer token, healthchecks-style pings with a key."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from ops_monitor_api.live_server import LiveServer, live_server
from websockets.sync.client import connect

from ops_monitor.client import MonitorError, OpsMonitorClient
from ops_monitor.commands.serve import build_app
from ops_monitor.config import Settings

TOKEN = "s3cret"
HOURLY = {"schedule": "0 * * * *", "checkin_margin": 5, "max_runtime": 30}


@dataclass
class Served:
    server: LiveServer
    client: OpsMonitorClient
    http: httpx.Client  # no token: what a Worker has


@contextmanager
def served(db_url: str) -> Iterator[Served]:
    # The schedules are off: nothing but the test moves the monitors.
    settings = Settings(db_url=db_url, token=TOKEN, scheduler_enabled=False)
    with (
        live_server(build_app(settings)) as server,
        OpsMonitorClient(server.url, token=TOKEN) as client,
        httpx.Client(base_url=server.url) as http,
    ):
        yield Served(server, client, http)


@pytest.fixture
def monitor(db_url: str) -> Iterator[Served]:
    with served(db_url) as running:
        yield running


def test_sentry_style_check_ins_open_and_close_a_run(monitor: Served) -> None:
    monitor.client.declare_monitor("nightly", HOURLY)

    started = monitor.client.check_in("nightly", "in_progress", checkin_id="run-7")
    finished = monitor.client.check_in("nightly", "ok", checkin_id="run-7", duration=42.5)

    shown = monitor.client.monitor("nightly")
    assert started == finished == "run-7"
    assert shown.state == "ok"
    (run,) = shown.checkins
    assert (run.checkin_id, run.status, run.duration) == ("run-7", "ok", 42.5)


def test_a_check_in_answers_202_with_its_id(monitor: Served) -> None:
    monitor.client.declare_monitor("nightly", HOURLY)

    response = monitor.client._http.post(
        "/api/ops/monitors/nightly/checkins", json={"status": "in_progress"}
    )

    assert response.status_code == 202
    assert response.json()["monitor"] == "nightly"
    assert len(response.json()["checkin_id"]) == 32


def test_a_check_in_with_monitor_config_upserts_the_monitor(monitor: Served) -> None:
    config = {"schedule": {"type": "interval", "value": 10, "unit": "minute"}}

    monitor.client.check_in("every-ten", "ok", monitor_config=config)

    (listed,) = monitor.client.monitors()
    assert listed.slug == "every-ten"
    assert listed.config["schedule"] == {"interval": 10, "unit": "minute"}
    assert listed.counts == {"ok": 1}


def test_bad_check_ins_are_4xx_naming_the_field(monitor: Served) -> None:
    monitor.client.declare_monitor("nightly", HOURLY)

    with pytest.raises(MonitorError) as unknown:
        monitor.client.check_in("nobody", "ok")
    with pytest.raises(MonitorError) as status:
        monitor.client.check_in("nightly", "done")
    with pytest.raises(MonitorError) as config:
        monitor.client.check_in("nightly", "ok", monitor_config={"schedule": "0 25 * * *"})
    later = datetime.now(UTC) + timedelta(hours=1)
    with pytest.raises(MonitorError) as future:
        monitor.client.check_in("nightly", "ok", timestamp=later)

    assert (unknown.value.status, unknown.value.message) == (404, "monitor 'nobody' does not exist")
    assert status.value.status == 400
    assert status.value.message.startswith("status: Input should be")
    assert config.value.status == 400
    assert config.value.message.startswith("monitor_config.schedule: '0 25 * * *'")
    assert future.value.message == "timestamp: more than 5 minutes in the future"


def test_pings_need_the_key_and_no_token(monitor: Served) -> None:
    key = monitor.client.declare_monitor("backup", HOURLY).ping_key

    start = monitor.http.get(f"/ping/{key}/start")
    done = monitor.http.post(f"/ping/{key}", content=b"dumped 1204 rows\n")
    checks = monitor.http.get("/api/ops/monitors")

    assert start.status_code == done.status_code == 200
    assert start.json()["checkin_id"] == done.json()["checkin_id"]
    assert checks.status_code == 401
    (run,) = monitor.client.monitor("backup").checkins
    assert (run.status, run.excerpt) == ("ok", "dumped 1204 rows")


def test_fail_and_exit_status_pings_record_errors(monitor: Served) -> None:
    key = monitor.client.declare_monitor("backup", HOURLY).ping_key

    monitor.http.post(f"/ping/{key}/fail", content=b"disk full")
    monitor.http.get(f"/ping/{key}/0")
    coded = monitor.http.post(f"/ping/{key}/3", content=b"exit 3")

    assert coded.status_code == 200
    runs = monitor.client.monitor("backup").checkins
    assert [(r.status, r.exit_status, r.excerpt) for r in runs] == [
        ("error", 3, "exit 3"),
        ("ok", 0, None),
        ("error", None, "disk full"),
    ]
    (issue,) = monitor.client.open_issues()
    assert issue.title == "Cron job backup reported a failed run"


def test_overlapping_pings_are_kept_apart_by_run_id(monitor: Served) -> None:
    key = monitor.client.declare_monitor("backup", HOURLY).ping_key

    monitor.http.get(f"/ping/{key}/start", params={"rid": "one"})
    monitor.http.get(f"/ping/{key}/start", params={"rid": "two"})
    monitor.http.get(f"/ping/{key}", params={"rid": "one"})

    runs = {r.checkin_id: r.status for r in monitor.client.monitor("backup").checkins}
    assert runs == {"one": "ok", "two": "in_progress"}


def test_bad_pings_are_4xx(monitor: Served) -> None:
    key = monitor.client.declare_monitor("backup", HOURLY).ping_key

    unknown = monitor.http.get("/ping/not-a-key")
    status = monitor.http.get(f"/ping/{key}/256")
    word = monitor.http.get(f"/ping/{key}/done")
    huge = monitor.http.post(f"/ping/{key}", content=b"x" * 1_000_001)

    assert (unknown.status_code, unknown.json()) == (404, {"error": "no monitor has this ping key"})
    assert status.status_code == 400
    assert word.status_code == 400
    assert huge.status_code == 413
    assert monitor.client.monitor("backup").checkins == ()


def test_a_long_body_is_kept_up_to_the_excerpt_limit(monitor: Served) -> None:
    key = monitor.client.declare_monitor("backup", HOURLY).ping_key

    monitor.http.post(f"/ping/{key}", content=b"y" * 50_000)

    (run,) = monitor.client.monitor("backup").checkins
    assert run.excerpt == "y" * 10_000


def test_pause_resume_and_the_list(monitor: Served) -> None:
    monitor.client.declare_monitor("a", HOURLY)
    monitor.client.declare_monitor("b", {"schedule": "0 3 * * *", "timezone": "Europe/Berlin"})

    paused = monitor.client.pause_monitor("a")
    listed = {m.slug: m.state for m in monitor.client.monitors()}
    resumed = monitor.client.resume_monitor("a")

    assert paused.state == "paused"
    assert listed == {"a": "paused", "b": "new"}
    assert resumed.state == "new"


def test_a_declared_history_is_evaluated_on_request(monitor: Served) -> None:
    now = datetime.now(UTC)
    monitor.client.declare_monitor(
        "hourly", {"schedule": "0 * * * *", "checkin_margin": 5}, since=now - timedelta(hours=6)
    )

    changes = monitor.client.evaluate_monitors()

    shown = monitor.client.monitor("hourly", limit=50)
    assert [c["state"] for c in changes] == ["missed"]
    assert shown.state == "missed"
    assert shown.counts["missed"] >= 5
    assert all(run.status == "missed" for run in shown.checkins)


def test_state_changes_are_broadcast_and_counted(tmp_path: Path) -> None:
    with served(f"sqlite:///{tmp_path / 'ops.db'}") as monitor:
        monitor.client.declare_monitor("nightly", HOURLY)
        with connect(
            monitor.server.ws_url + "/api/ops/broadcast",
            additional_headers={"Authorization": f"Bearer {TOKEN}"},
        ) as subscriber:
            monitor.client.check_in("nightly", "error")
            message = json.loads(subscriber.recv(timeout=10))
        metrics = monitor.client._http.get("/metrics").text

    assert message["type"] == "monitor_state_changed"
    assert message["change"]["monitor"] == "nightly"
    assert (message["change"]["previous"], message["change"]["state"]) == ("new", "error")
    assert 'ops_monitor_cron_monitor_checkins_total{monitor="nightly",status="error"} 1.0' in (
        metrics
    )
