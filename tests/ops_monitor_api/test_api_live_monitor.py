"""The whole monitor over HTTP: real server, real service, SQLite and PostgreSQL, real clients."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

import httpx
import pytest
from websockets.sync.client import connect

from ops_monitor.client import (
    AsyncOpsMonitorClient,
    MonitorBusy,
    MonitorError,
    OpsMonitorClient,
)

from .live_monitor import (
    RunningMonitor,
    records,
    running_monitor,
    writes_blocked,
)


@pytest.fixture
def monitor(db_url: str) -> Iterator[RunningMonitor]:
    with running_monitor(db_url) as running:
        yield running


def test_a_full_scan_ingests_analyses_and_files_issues(monitor: RunningMonitor) -> None:
    monitor.push(records("payment", 30))

    result = monitor.scan("full")

    assert (result.status, result.scope, result.logs_processed) == ("completed", "full", 30)
    assert result.issues_filed >= 1
    (errors,) = [i for i in monitor.client.open_issues() if "payment call failed" in i.title]
    assert (errors.source, errors.category, errors.occurrences) == ("checkout", "stability", 30)


def test_an_incremental_scan_reads_only_new_records(monitor: RunningMonitor) -> None:
    monitor.push(records("old", 50))
    monitor.scan("full")
    monitor.push(records("new", 5, start=100))

    result = monitor.scan("incremental")

    assert result.logs_processed == 5


def test_a_websocket_client_receives_the_completed_scan(monitor: RunningMonitor) -> None:
    monitor.push(records("broadcast", 3))
    with connect(monitor.server.ws_url + "/api/ops/broadcast") as subscriber:
        result = monitor.scan("full")

        message = json.loads(subscriber.recv(timeout=10))

    assert message["type"] == "scan_completed"
    assert (message["scan"]["id"], message["scan"]["logs_processed"]) == (result.id, 3)


def test_scans_and_issues_survive_a_server_restart(db_url: str) -> None:
    with running_monitor(db_url) as first:
        first.push(records("durable", 10))
        scan = first.scan("full")
        issues_before = first.client.open_issues()

    with running_monitor(db_url) as second:
        scans_after = second.client.recent_scans()
        issues_after = second.client.open_issues()

    assert [s.id for s in scans_after] == [scan.id]
    assert [(i.id, i.fingerprint, i.occurrences) for i in issues_after] == [
        (i.id, i.fingerprint, i.occurrences) for i in issues_before
    ]


def test_two_scans_at_once_give_one_result_and_one_conflict(monitor: RunningMonitor) -> None:
    monitor.push(records("bulk", 100))

    def post_scan() -> httpx.Response:
        return httpx.post(monitor.server.url + "/api/ops/scan", json={"scope": "full"}, timeout=60)

    with ThreadPoolExecutor(2) as pool:
        with writes_blocked(monitor.db_url):  # whichever scan gets the lock cannot finish yet,
            requests = [pool.submit(post_scan) for _ in range(2)]
            answered_first = next(as_completed(requests)).result()  # so only the other answers
        (answered_last,) = [r.result() for r in requests if r.result() is not answered_first]

    assert answered_first.status_code == 409
    assert isinstance(answered_first.json()["running_scan_id"], int)
    assert answered_last.status_code == 200
    assert answered_last.json()["logs_processed"] == 100


def test_the_client_reports_a_busy_monitor_and_resolves_issues(monitor: RunningMonitor) -> None:
    monitor.push(records("resolvable", 4))
    monitor.scan("full")
    (issue, *_) = monitor.client.open_issues()

    resolved = monitor.client.resolve_issue(issue.id, "fixed in #12")

    assert (resolved.status, resolved.resolution) == ("resolved", "fixed in #12")
    assert issue.id not in [i.id for i in monitor.client.open_issues()]
    with pytest.raises(MonitorError) as missing:
        monitor.client.resolve_issue(999_999, "nope")
    assert missing.value.status == 404
    assert not isinstance(missing.value, MonitorBusy)


def test_health_and_metrics_are_served(monitor: RunningMonitor) -> None:
    monitor.push(records("metered", 2))
    monitor.scan("incremental")

    health = monitor.client.health()
    metrics = httpx.get(monitor.server.url + "/metrics").text

    assert (health.status, health.running_scan_id) == ("ok", None)
    assert "ops_monitor" in metrics


def test_with_a_token_the_live_monitor_requires_it(tmp_path: Path) -> None:
    with running_monitor(f"sqlite:///{tmp_path / 'ops.db'}", token="s3cret") as monitor:
        with OpsMonitorClient(monitor.server.url, token="wrong") as stranger:
            with pytest.raises(MonitorError) as refused:
                stranger.recent_scans()
            assert stranger.health().status == "ok"
        assert monitor.client.recent_scans() == []

    assert refused.value.status == 401


def test_a_push_over_the_limit_is_a_413_and_stores_nothing(tmp_path: Path) -> None:
    with running_monitor(f"sqlite:///{tmp_path / 'ops.db'}", max_push_bytes=4096) as monitor:
        with pytest.raises(MonitorError) as refused:
            monitor.push(records("huge", 200))
        result = monitor.scan("full")

    assert refused.value.status == 413
    assert result.logs_processed == 0


def test_the_async_client_does_everything_the_sync_one_does(monitor: RunningMonitor) -> None:
    async def session() -> tuple[list[int], int, str, list[int], int]:
        async with AsyncOpsMonitorClient(monitor.server.url) as client:
            pushed = await client.push_logs(records("async", 6))
            scan = await client.scan("full")
            (issue,) = [i for i in await client.open_issues(limit=10) if "async" in i.title]
            resolved = await client.resolve_issue(issue.id, "done")
            scans = [s.id for s in await client.recent_scans(limit=5)]
            with pytest.raises(MonitorError) as no_cron:  # this app was built without it
                await client.cron_status()
            return (
                [pushed.accepted, scan.logs_processed],
                issue.id,
                resolved.status,
                scans,
                (no_cron.value.status),
            )

    counts, _, status, scans, missing = asyncio.run(session())

    assert counts == [6, 6]
    assert status == "resolved"
    assert len(scans) == 1
    assert missing == 404
