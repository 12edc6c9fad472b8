"""The client against a real peer that fails: retries for reads only, typed errors for the rest."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Iterator

import httpx
import pytest

from ops_monitor.client import (
    AsyncOpsMonitorClient,
    MonitorBusy,
    MonitorError,
    MonitorUnavailable,
    OpsMonitorClient,
    RetryPolicy,
)

from .scripted_peer import ScriptedPeer, scripted_peer

QUICK = RetryPolicy(attempts=3, base_delay=0.001, max_delay=0.01)
SCAN = {
    "id": 7,
    "scope": "full",
    "status": "completed",
    "trigger": "api",
    "started_at": "2026-01-01T02:00:00Z",
    "finished_at": "2026-01-01T02:00:03+00:00",
    "logs_processed": 10,
    "issues_found": 2,
    "issues_filed": 1,
    "issues_reopened": 0,
}


@pytest.fixture
def peer() -> Iterator[ScriptedPeer]:
    with scripted_peer() as running:
        yield running


def closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def test_a_read_is_retried_after_a_503_and_then_succeeds(peer: ScriptedPeer) -> None:
    peer.reply(503, {"error": "warming up"})
    peer.reply(502, b"bad gateway")
    peer.reply(200, [SCAN])

    with OpsMonitorClient(peer.url, retry=QUICK) as monitor:
        scans = monitor.recent_scans(limit=5)

    assert [s.id for s in scans] == [7]
    assert [seen.path for seen in peer.seen] == ["/api/ops/scans?limit=5"] * 3


def test_a_read_gives_up_after_its_attempts_with_the_last_error(peer: ScriptedPeer) -> None:
    for _ in range(3):
        peer.reply(503, {"error": "still down"})

    with OpsMonitorClient(peer.url, retry=QUICK) as monitor, pytest.raises(MonitorError) as raised:
        monitor.health()

    assert (raised.value.status, raised.value.message) == (503, "still down")
    assert len(peer.seen) == 3


def test_a_scan_is_never_retried(peer: ScriptedPeer) -> None:
    peer.reply(503, {"error": "down"})

    with OpsMonitorClient(peer.url, retry=QUICK) as monitor, pytest.raises(MonitorError):
        monitor.scan("full")

    assert [(s.method, s.path) for s in peer.seen] == [("POST", "/api/ops/scan")]


def test_a_client_error_is_not_retried_and_carries_the_message(peer: ScriptedPeer) -> None:
    peer.reply(400, {"error": "query parameter limit: too big"})

    with OpsMonitorClient(peer.url, retry=QUICK) as monitor, pytest.raises(MonitorError) as raised:
        monitor.open_issues(limit=9999)

    assert raised.value.status == 400
    assert "limit" in raised.value.message
    assert len(peer.seen) == 1


def test_an_error_without_a_json_body_uses_the_reason_phrase(peer: ScriptedPeer) -> None:
    peer.reply(404, b"<html>nope</html>")

    with OpsMonitorClient(peer.url, retry=QUICK) as monitor, pytest.raises(MonitorError) as raised:
        monitor.resolve_issue(1, "fixed")

    assert (raised.value.status, raised.value.message) == (404, "Not Found")


def test_a_busy_monitor_names_the_running_scan(peer: ScriptedPeer) -> None:
    peer.reply(409, {"error": "scan 3 is already running", "running_scan_id": 3})

    with OpsMonitorClient(peer.url) as monitor, pytest.raises(MonitorBusy) as raised:
        monitor.scan("incremental")

    assert raised.value.running_scan_id == 3


def test_an_unreachable_monitor_is_reported_after_the_retries() -> None:
    with OpsMonitorClient(closed_port_url(), retry=QUICK) as monitor:
        with pytest.raises(MonitorUnavailable):
            monitor.cron_status()
        with pytest.raises(MonitorUnavailable):
            monitor.push_logs([{"message": "x"}])


def test_the_token_comes_from_the_argument_or_the_environment(
    peer: ScriptedPeer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPS_MONITOR_TOKEN", "from-env")
    peer.reply(200, {"status": "ok"})
    peer.reply(200, {"status": "ok"})

    with OpsMonitorClient(peer.url) as monitor:
        monitor.health()
    with OpsMonitorClient(peer.url, token="explicit") as monitor:
        monitor.health()

    assert [s.headers["Authorization"] for s in peer.seen] == ["Bearer from-env", "Bearer explicit"]


def test_cron_status_reads_the_schedules_list(peer: ScriptedPeer) -> None:
    peer.reply(
        200,
        {
            "schedules": [
                {
                    "name": "full",
                    "expression": "0 2 * * *",
                    "scope": "full",
                    "next_run": "2026-01-02T02:00:00+00:00",
                    "last_run": None,
                    "last_outcome": None,
                    "late": False,
                },
            ]
        },
    )

    with OpsMonitorClient(peer.url) as monitor:
        (schedule,) = monitor.cron_status()

    assert (schedule.name, schedule.expression, schedule.late) == ("full", "0 2 * * *", False)
    assert schedule.next_run is not None
    assert schedule.next_run.hour == 2


def test_the_async_client_retries_reads_and_not_writes(peer: ScriptedPeer) -> None:
    peer.reply(504, {"error": "gateway timeout"})
    peer.reply(200, [SCAN])
    peer.reply(503, {"error": "down"})

    async def calls() -> None:
        async with AsyncOpsMonitorClient(peer.url, retry=QUICK) as monitor:
            assert [s.id for s in await monitor.recent_scans()] == [7]
            with pytest.raises(MonitorError):
                await monitor.push_logs([{"message": "x", "timestamp": 0}])

    asyncio.run(calls())

    assert [(s.method, s.path) for s in peer.seen] == [
        ("GET", "/api/ops/scans?limit=20"),
        ("GET", "/api/ops/scans?limit=20"),
        ("POST", "/api/ops/logs"),
    ]
    assert json.loads(peer.seen[-1].body) == [{"message": "x", "timestamp": 0}]


def test_the_async_client_reports_an_unreachable_monitor() -> None:
    async def call() -> None:
        async with AsyncOpsMonitorClient(closed_port_url(), retry=QUICK) as monitor:
            await monitor.health()

    with pytest.raises(MonitorUnavailable):
        asyncio.run(call())


def test_a_timeout_at_the_network_boundary_is_unavailability() -> None:
    def hang(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    with (
        OpsMonitorClient(
            "http://monitor.invalid", retry=QUICK, transport=httpx.MockTransport(hang)
        ) as monitor,
        pytest.raises(MonitorUnavailable, match="timed out"),
    ):
        monitor.open_issues()
