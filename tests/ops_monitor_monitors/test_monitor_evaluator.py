"""The evaluation loop: it survives a database that fails, and says so in one JSON line."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from ops_monitor.api.app import create_app
from ops_monitor.api.monitors import router
from ops_monitor.config import Settings
from ops_monitor.monitors.config import parse_monitor_config
from ops_monitor.monitors.evaluator import Evaluator
from ops_monitor.monitors.service import CronMonitors
from ops_monitor.store import Store

from .conftest import START, Harness


class FailingOnce:
    def __init__(self, monitors: CronMonitors) -> None:
        self.monitors = monitors
        self.calls = 0

    def evaluate(self) -> list[object]:
        self.calls += 1
        if self.calls == 1:
            raise OSError("disk I/O error\nsecond line")
        return list(self.monitors.evaluate())


def test_a_failed_evaluation_is_one_json_line_and_the_loop_goes_on(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    harness.declare(checkin_margin=5)
    failing = FailingOnce(harness.monitors)
    evaluator = Evaluator(failing, every=0)  # type: ignore[arg-type]
    harness.at(START + harness.monitors.outage_after / 2)
    caplog.set_level(logging.ERROR, "ops_monitor.monitors")

    evaluator.run_once()
    harness.at(START + harness.monitors.outage_after)
    evaluator.run_once()

    (line,) = [json.loads(r.getMessage()) for r in caplog.records]
    assert line == {
        "event": "monitor_evaluation_failed",
        "error": "OSError: disk I/O error second line",
    }
    assert failing.calls == 2


def test_prepare_is_retried_until_it_works(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'ops.db'}")
    store.migrate()
    monitors = CronMonitors(store)
    attempts: list[int] = []

    def prepare() -> None:
        attempts.append(1)
        if len(attempts) == 1:
            raise ConnectionError("database is starting up")
        monitors.declare("nightly", parse_monitor_config({"schedule": "0 2 * * *"}))

    evaluator = Evaluator(monitors, prepare=prepare, after_run=store.close)
    evaluator.run_once()
    assert monitors.monitors() == []
    evaluator.run_once()
    evaluator.run_once()

    assert len(attempts) == 2
    assert [m.slug for m in monitors.monitors()] == ["nightly"]
    store.close()


def test_the_routes_answer_503_without_cron_monitors(tmp_path: Path) -> None:
    app = create_app(Settings(db_url=f"sqlite:///{tmp_path / 'ops.db'}"), routers=[router])
    with TestClient(app) as client:
        response = client.get("/api/ops/monitors")

    assert response.status_code == 503
    assert response.json() == {"error": "cron monitors are not enabled on this server"}
