"""The scheduler inside the served app: its loop on the app's service, `GET /api/ops/cron`,
and its metrics on `/metrics`, over real HTTP."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import click
import httpx
import pytest

from ops_monitor.client import OpsMonitorClient
from ops_monitor.commands.serve import build_app
from ops_monitor.config import Settings
from ops_monitor.scheduling.runtime import scheduler_lifespan

from .conftest import served


def wait_for(check: Any, timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def test_served_app_catches_up_and_reports_it_on_cron_scans_and_metrics(tmp_path: Path) -> None:
    settings = Settings(db_url=f"sqlite:///{tmp_path / 'ops.db'}")  # the default schedules

    with served(build_app(settings)) as server, httpx.Client(base_url=server.url) as http:

        def full_done() -> dict[str, Any] | None:
            rows = http.get("/api/ops/cron").json()["schedules"]
            full = next(row for row in rows if row["name"] == "full")
            return full if full["last_outcome"] == "completed" else None

        full = wait_for(full_done)  # a fresh database: one catch-up full scan at start
        scans = http.get("/api/ops/scans").json()
        # The run is counted once the scan's record is written and its check-in (as the cron
        # monitor ops-monitor-full) recorded, a moment after the record is visible.
        completed = 'ops_monitor_scheduler_runs_total{outcome="completed",schedule="full"}'

        def counted() -> str:
            text = http.get("/metrics").text
            return text if completed in text else ""

        metrics = wait_for(counted)
        with OpsMonitorClient(server.url) as client:
            crons = client.cron_status()

    assert [(scan["scope"], scan["trigger"]) for scan in scans] == [("full", "full")]
    assert full["last_scan_id"] == scans[0]["id"]
    assert full["late"] is False
    assert completed in metrics
    assert 'ops_monitor_cron_monitor_state{monitor="ops-monitor-full",state="ok"} 1.0' in metrics
    # the catch-up full scan counts for incremental too, and no incremental tick has come since
    assert {cron.name: cron.late for cron in crons} == {"full": False, "incremental": False}
    assert next(cron for cron in crons if cron.name == "full").last_outcome == "completed"


def test_cron_route_without_a_scheduler_reports_no_schedules(tmp_path: Path) -> None:
    from ops_monitor.api import cron
    from ops_monitor.api.app import create_app

    settings = Settings(db_url=f"sqlite:///{tmp_path / 'ops.db'}")

    with served(create_app(settings, routers=[cron.router])) as server:
        body = httpx.get(f"{server.url}/api/ops/cron").json()

    assert (body["schedules"], body["late"]) == ([], False)


def test_a_schedule_the_scheduler_cannot_use_stops_the_server_before_it_starts() -> None:
    settings = Settings(schedules={"hourly": "0 * * * *"})

    with pytest.raises(click.UsageError, match="schedule 'hourly': unknown scope"):
        scheduler_lifespan(settings)


def test_with_no_schedules_serve_runs_no_loop_and_reports_none(tmp_path: Path) -> None:
    settings = Settings(db_url=f"sqlite:///{tmp_path / 'ops.db'}", schedules={})

    with served(build_app(settings)) as server, httpx.Client(base_url=server.url) as http:
        body = http.get("/api/ops/cron").json()
        scans = http.get("/api/ops/scans").json()

    assert (body["schedules"], body["late"], scans) == ([], False, [])
    assert not any(thread.name == "ops-monitor-scheduler" for thread in threading.enumerate())
