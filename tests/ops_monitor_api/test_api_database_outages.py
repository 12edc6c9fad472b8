"""A database that is down, stalled, slow or emptied costs a request seconds and a clear 503,
never a hang or a generic 500, and the monitor recovers without a restart."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from ops_monitor.models import ScanResult
from ops_monitor.store import Store

from .conftest import MakeHarness, app_with_double
from .doubles import RecordingService
from .live_monitor import PG_SERVER, RunningMonitor, postgres_schema, records, running_monitor
from .stalling_proxy import stalling_proxy

PATIENCE = 30.0  # a test's bound on one HTTP answer; the monitor's own bounds are far shorter


def _until_healthy(http: httpx.Client) -> httpx.Response:
    """Ask /healthz until it says ok (each answer takes at most a second)."""
    for _ in range(60):
        response = http.get("/healthz")
        if response.status_code == 200:
            return response
        time.sleep(0.1)
    return response


@pytest.mark.postgres
def test_a_stalled_database_degrades_healthz_and_fails_requests_fast() -> None:
    with (
        postgres_schema() as url,
        stalling_proxy() as proxy,
        running_monitor(url.replace(":5432/", f":{proxy.port}/")) as monitor,
        httpx.Client(base_url=monitor.server.url, timeout=PATIENCE) as http,
    ):
        monitor.push(records("db", 5))
        healthy = http.get("/healthz")
        proxy.stall()
        degraded = http.get("/healthz")
        still_degraded = http.get("/healthz")  # the stuck probe is awaited, not repeated
        listed = http.get("/api/ops/issues")
        pushed = http.post("/api/ops/logs", json=records("db", 5, start=5))
        proxy.resume()
        recovered = _until_healthy(http)
        pushed_after = http.post("/api/ops/logs", json=records("db", 5, start=10))

    assert healthy.json() == {"status": "ok", "running_scan_id": None}
    for answer in (degraded, still_degraded):
        assert answer.status_code == 503
        assert answer.json() == {
            "status": "degraded",
            "error": "the database did not answer within 0.8 s",
        }
        assert answer.headers["retry-after"] == "5"
    for answer in (listed, pushed):
        assert answer.status_code == 503
        assert answer.json()["error"] == (
            "database unavailable: the database did not answer within 0.8 s"
        )
        assert 1 <= int(answer.headers["retry-after"]) <= 5
    assert recovered.json()["status"] == "ok"
    assert pushed_after.json()["accepted"] == 5


@pytest.mark.postgres
def test_connecting_to_a_stalled_database_gives_up_after_the_connect_timeout() -> None:
    with postgres_schema() as url, stalling_proxy() as proxy:
        store = Store(url.replace(":5432/", f":{proxy.port}/"), connect_timeout=1)
        proxy.stall()
        try:
            with pytest.raises(OperationalError) as gave_up:
                store.migrate()
        finally:
            proxy.resume()
            store.close()

    assert "timeout expired" in str(gave_up.value.orig)


@pytest.mark.postgres
def test_a_statement_waiting_on_a_lock_is_cancelled_and_answered_503() -> None:
    with (
        postgres_schema() as url,
        running_monitor(url, db_statement_timeout_seconds=1) as monitor,
        httpx.Client(base_url=monitor.server.url, timeout=PATIENCE) as http,
    ):
        engine = create_engine(url)
        try:
            with engine.connect() as holder, holder.begin():
                holder.exec_driver_sql("LOCK TABLE operation_logs IN ACCESS EXCLUSIVE MODE")
                blocked = http.post("/api/ops/logs", json=records("db", 5))
        finally:
            engine.dispose()
        after = http.post("/api/ops/logs", json=records("db", 5))
        stored = monitor.client.recent_scans()

    assert blocked.status_code == 503
    assert blocked.json()["error"] == (
        "database unavailable: canceling statement due to statement timeout"
    )
    assert blocked.headers["retry-after"] == "5"
    assert after.json()["accepted"] == 5  # one slow statement does not mark the database down
    assert stored == []


@pytest.mark.postgres
def test_the_statement_timeout_applies_with_the_urls_own_options() -> None:
    with postgres_schema() as url:
        store = Store(url, statement_timeout=0.2)
        try:
            with store.read() as connection:
                search_path = connection.execute(text("SHOW search_path")).scalar_one()
                with pytest.raises(OperationalError) as cancelled:
                    connection.execute(text("SELECT pg_sleep(5)"))
        finally:
            store.close()

    assert search_path == str(make_url(url).query["options"]).removeprefix("-csearch_path=")
    assert "statement timeout" in str(cancelled.value.orig)


def _drop_every_table(db_url: str) -> None:
    url = make_url(db_url)
    if url.get_backend_name() == "sqlite":
        with sqlite3.connect(str(url.database), isolation_level=None) as connection:
            tables = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            for (name,) in tables.fetchall():
                connection.execute(f'DROP TABLE "{name}"')
        return
    schema = str(url.query["options"]).removeprefix("-csearch_path=")
    with psycopg.connect(PG_SERVER, autocommit=True) as admin:
        admin.execute(f'DROP SCHEMA "{schema}" CASCADE')
        admin.execute(f'CREATE SCHEMA "{schema}"')


@pytest.fixture
def monitor(db_url: str) -> Iterator[RunningMonitor]:
    with running_monitor(db_url) as running:
        yield running


def test_a_recreated_empty_database_is_migrated_again_without_a_restart(
    monitor: RunningMonitor,
) -> None:
    monitor.push(records("db", 5))
    _drop_every_table(monitor.db_url)
    with httpx.Client(base_url=monitor.server.url, timeout=PATIENCE) as http:
        first = http.get("/api/ops/issues")
        second = http.get("/api/ops/issues")
        pushed = http.post("/api/ops/logs", json=records("db", 5))

    assert first.status_code == 503
    assert first.json()["error"].startswith("database schema was missing (")
    assert first.json()["error"].endswith("); it has been recreated: retry")
    assert "ops_issues" in first.json()["error"]
    assert first.headers["retry-after"] == "1"
    assert (second.status_code, second.json()) == (200, [])
    assert pushed.json()["accepted"] == 5


@pytest.mark.postgres
def test_a_vanished_postgres_schema_is_a_503_naming_the_cause_until_it_is_back() -> None:
    with postgres_schema() as url:
        schema = str(make_url(url).query["options"]).removeprefix("-csearch_path=")
        with (
            running_monitor(url) as monitor,
            httpx.Client(base_url=monitor.server.url, timeout=PATIENCE) as http,
            psycopg.connect(PG_SERVER, autocommit=True) as admin,
        ):
            admin.execute(f'DROP SCHEMA "{schema}" CASCADE')
            gone = http.get("/api/ops/scans")
            admin.execute(f'CREATE SCHEMA "{schema}"')
            back = http.get("/api/ops/scans")
            listed = http.get("/api/ops/scans")

    assert gone.status_code == 503
    assert (
        "could not be recreated: no schema has been selected to create in" in (gone.json()["error"])
    )
    assert back.status_code == 503
    assert back.json()["error"].endswith("it has been recreated: retry")
    assert (listed.status_code, listed.json()) == (200, [])


class FlakyService(RecordingService):
    """The double, whose reads fail with `outage` while it is set."""

    outage: Exception | None = None

    def recent_scans(self, limit: int = 20) -> list[ScanResult]:
        if self.outage is not None:
            raise self.outage
        return super().recent_scans(limit)


def _refused_connection() -> OperationalError:
    reason = psycopg.OperationalError("connection failed: Connection refused")
    return OperationalError("SELECT 1", {}, reason)


def test_while_the_database_is_known_down_requests_are_refused_without_trying(
    make_routes: MakeHarness,
) -> None:
    routes = make_routes()
    flaky = FlakyService()
    routes.app.dependency_overrides.clear()
    routes.app.state.service = flaky
    flaky.outage = _refused_connection()

    first = routes.client.get("/api/ops/scans")
    flaky.outage = None
    flaky.calls.clear()
    second = routes.client.get("/api/ops/scans")
    asked = list(flaky.calls)
    health = routes.client.get("/healthz")
    third = routes.client.get("/api/ops/scans")

    assert first.status_code == 503
    assert first.json() == {"error": "database unavailable: connection failed: Connection refused"}
    assert first.headers["retry-after"] == "5"
    assert second.status_code == 503
    assert second.json() == first.json()
    assert asked == []  # refused before the service was asked
    assert health.json()["status"] == "ok"  # the probe answered: the mark is cleared
    assert (third.status_code, third.json()) == (200, [])


@pytest.mark.parametrize(
    ("failure", "status"),
    [
        (PoolTimeout("QueuePool limit of size 5 overflow 10 reached"), 503),
        (IntegrityError("INSERT", {}, Exception("duplicate key")), 500),
    ],
)
def test_a_full_pool_is_503_and_a_bug_stays_500(
    make_routes: MakeHarness, failure: Exception, status: int
) -> None:
    routes = make_routes()
    routes.service.failure = failure

    response = routes.client.post("/api/ops/scan", json={"scope": "full"})

    assert response.status_code == status
    if status == 503:
        assert response.json()["error"].startswith("database unavailable: no database connection")
        assert response.headers["retry-after"] == "5"
    else:
        assert "retry-after" not in response.headers


def test_healthz_is_degraded_when_the_database_refuses(make_routes: MakeHarness) -> None:
    routes = make_routes()

    class Refusing(RecordingService):
        def running_scan_id(self) -> int | None:
            raise _refused_connection()

    routes.app.state.service = Refusing()
    response = routes.client.get("/healthz")
    listed = routes.client.get("/api/ops/issues")

    assert response.status_code == 503
    assert response.json() == {
        "status": "degraded",
        "error": "connection failed: Connection refused",
    }
    assert listed.status_code == 503


def test_healthz_works_again_when_the_app_is_started_a_second_time(tmp_path: Path) -> None:
    app, _ = app_with_double(tmp_path)
    answers = []
    for _ in range(2):
        with TestClient(app) as client:
            answers.append(client.get("/healthz").json())

    assert answers == [{"status": "ok", "running_scan_id": None}] * 2
