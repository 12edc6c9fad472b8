"""Bad input over HTTP costs only itself and is answered with a 4xx, never a 500: pushes with
out-of-bounds dates, text the databases cannot hold, or JSON nested too deeply; empty bodies;
invalid scan requests. Real server, real service, SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy import select, text

from ops_monitor.api.app import create_app
from ops_monitor.api.broadcast_hub import Broadcaster
from ops_monitor.config import Settings
from ops_monitor.service import OpsMonitorService
from ops_monitor.store import Store
from ops_monitor.store.schema import operation_logs

from .live_server import live_server

NOW = datetime.now(UTC).replace(microsecond=0)
NDJSON = {"Content-Type": "application/x-ndjson"}


def record(message: str, at: datetime = NOW - timedelta(minutes=5), **fields: object) -> str:
    return json.dumps({"timestamp": at.isoformat(), "level": "error", "message": message, **fields})


@dataclass
class Monitor:
    http: httpx.Client
    store: Store
    service: OpsMonitorService

    def messages(self) -> list[str]:
        c = operation_logs.c
        with self.store.read() as connection:
            return list(connection.scalars(select(c.message).order_by(c.id)))


@contextmanager
def serving(db_url: str, service: OpsMonitorService, broadcaster: Broadcaster) -> Iterator[Monitor]:
    """The real app around a real service, on a real server on 127.0.0.1."""
    settings = Settings(db_url=db_url)
    app = create_app(
        settings, service=service, broadcaster=broadcaster, registry=CollectorRegistry()
    )
    with live_server(app) as server, httpx.Client(base_url=server.url, timeout=30) as http:
        yield Monitor(http, service.store, service)


@pytest.fixture
def monitor(db_url: str) -> Iterator[Monitor]:
    store = Store(db_url)
    broadcaster = Broadcaster()
    service = OpsMonitorService(store, on_scan_completed=broadcaster.publish)
    with serving(db_url, service, broadcaster) as running:
        yield running
    store.close()


def test_a_push_refuses_records_dated_far_in_the_future_and_keeps_the_rest(
    monitor: Monitor,
) -> None:
    body = [
        json.loads(record("now")),
        json.loads(record("far future", at=datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC))),
        json.loads(record("also now")),
    ]

    response = monitor.http.post("/api/ops/logs", json=body)

    assert response.status_code == 200
    answer = response.json()
    assert (answer["accepted"], answer["malformed"]) == (2, 1)
    assert answer["malformed_samples"][0].startswith("line 2: timestamp: in the future")
    assert monitor.messages() == ["now", "also now"]
    scan = monitor.http.post("/api/ops/scan", json={"scope": "full"}).json()
    assert (scan["status"], scan["logs_processed"], scan["malformed_lines"]) == ("completed", 2, 1)


def test_a_push_with_text_the_databases_cannot_hold_is_normalised_not_a_500(
    monitor: Monitor,
) -> None:
    lines = [
        record("surrogate MARK here").replace("MARK", "\\ud800"),
        record("nul MARK here").replace("MARK", "\\u0000"),
        record("long source", source="s" * 500, level="x" * 50),
        record("good"),
    ]

    response = monitor.http.post("/api/ops/logs", content="\n".join(lines), headers=NDJSON)

    assert response.status_code == 200
    assert response.json()["accepted"] == 4
    assert monitor.messages() == [
        "surrogate \ufffd here",
        "nul \ufffd here",
        "long source",
        "good",
    ]


def test_a_deeply_nested_json_array_is_a_400(monitor: Monitor) -> None:
    body = "[" * 100_000 + "]" * 100_000

    response = monitor.http.post(
        "/api/ops/logs", content=body, headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 400
    assert response.json()["error"] == "body is not valid JSON: nested too deeply to parse"


def test_a_deeply_nested_ndjson_line_costs_that_line_only(monitor: Monitor) -> None:
    body = "\n".join([record("before"), "[" * 100_000 + "]" * 100_000, record("after")])

    response = monitor.http.post("/api/ops/logs", content=body, headers=NDJSON)

    assert response.status_code == 200
    answer = response.json()
    assert (answer["accepted"], answer["malformed"]) == (2, 1)
    assert answer["malformed_samples"][0].startswith("line 2: not JSON (nested too deeply)")
    assert monitor.messages() == ["before", "after"]


def test_an_empty_push_without_a_content_type_is_a_400(monitor: Monitor) -> None:
    response = monitor.http.post("/api/ops/logs")

    assert response.status_code == 400
    assert response.json() == {"error": "body: empty; send a JSON array of records, or NDJSON"}


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b"not json", "body: invalid JSON (Expecting value at character 0)"),
        (b'{"scope": "full",}', "body: invalid JSON (Expecting property name enclosed in"),
    ],
)
def test_invalid_json_to_the_scan_route_names_the_body(
    monitor: Monitor, body: bytes, error: str
) -> None:
    response = monitor.http.post(
        "/api/ops/scan", content=body, headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 400
    assert response.json()["error"].startswith(error)


@pytest.mark.parametrize("value", ["\\ud800", "a\\u0000b"])
@pytest.mark.parametrize("field", ["sources", "levels"])
def test_scan_filters_the_database_cannot_take_are_a_400(
    monitor: Monitor, field: str, value: str
) -> None:
    body = '{"scope": "full", "filters": {"FIELD": ["VALUE"]}}'
    body = body.replace("FIELD", field).replace("VALUE", value)

    response = monitor.http.post(
        "/api/ops/scan", content=body, headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 400
    assert response.json()["error"].startswith(f"filters.{field}.0: Value error, must not")
    assert monitor.service.last_scan() is None


def test_a_failed_scan_is_listed_with_a_short_error(db_url: str) -> None:
    store = Store(db_url)
    calls = 0

    def clock() -> datetime:
        nonlocal calls
        calls += 1
        if calls == 3:  # inside the scan: a database error carrying SQL and log content
            with store.write() as connection:
                connection.execute(
                    text("INSERT INTO no_such_table (message) VALUES (:message)"),
                    {"message": "secret log line"},
                )
        return NOW

    try:
        with serving(db_url, OpsMonitorService(store, clock=clock), Broadcaster()) as monitor:
            answer = monitor.http.post("/api/ops/scan", json={"scope": "full"})
            [listed] = monitor.http.get("/api/ops/scans").json()
    finally:
        store.close()

    assert answer.status_code == 500
    assert "secret" not in answer.text
    assert listed["status"] == "failed"
    assert "no_such_table" in listed["error"]
    assert "secret" not in listed["error"]
    assert "SQL" not in listed["error"]
