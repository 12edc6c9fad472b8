"""The monitor gate's questions, asked over real HTTP of a peer that speaks the monitor's API.

The peer is a plain HTTP server on 127.0.0.1 answering with the JSON the ops routes return; it
stands in for a monitor in states that are hard to reach for real (a stale scan, a late cron, a
monitor answering 500). The `launch` path runs the real monitor (see the workers-monorepo demo).
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from readiness.gates import monitor
from readiness.gates.monitor_launch import free_port
from readiness.gates.result import GateContext, Status
from readiness.plan import LaunchMonitor, LogFile, MonitorGate

NOW = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)


def scan(scan_id: int, scope: str, status: str, finished: datetime) -> dict[str, Any]:
    return {
        "id": scan_id,
        "scope": scope,
        "status": status,
        "trigger": "schedule:daily-full",
        "started_at": (finished - timedelta(seconds=5)).isoformat(),
        "finished_at": finished.isoformat(),
        "logs_processed": 10,
        "issues_found": 1,
        "issues_filed": 1,
        "issues_reopened": 0,
    }


def issue(issue_id: int, severity: str) -> dict[str, Any]:
    return {
        "id": issue_id,
        "fingerprint": f"f{issue_id}",
        "title": f"D1_ERROR in route {issue_id}",
        "category": "stability",
        "severity": severity,
        "status": "new",
        "source": "orchestrator",
        "occurrences": 7,
        "first_seen": NOW.isoformat(),
        "last_seen": NOW.isoformat(),
    }


class Peer:
    """What the peer answers, per path, and what it was asked."""

    def __init__(self) -> None:
        self.routes: dict[str, tuple[int, Any]] = {
            "/healthz": (200, {"status": "ok"}),
            "/api/ops/scans": (
                200,
                [
                    scan(2, "incremental", "completed", NOW),
                    scan(1, "full", "completed", NOW - timedelta(hours=3)),
                ],
            ),
            "/api/ops/issues": (200, []),
            "/api/ops/cron": (
                200,
                {
                    "schedules": [
                        {
                            "name": "daily-full",
                            "expression": "0 2 * * *",
                            "scope": "full",
                            "next_run": (NOW + timedelta(hours=14)).isoformat(),
                            "last_run": (NOW - timedelta(hours=10)).isoformat(),
                            "last_outcome": "completed",
                            "late": False,
                        },
                    ]
                },
            ),
        }
        self.requests: list[tuple[str, str | None]] = []


@pytest.fixture
def peer() -> Iterator[tuple[Peer, str]]:
    state = Peer()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            state.requests.append((self.path, self.headers.get("Authorization")))
            status, body = state.routes.get(path, (404, {"error": "not found"}))
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield state, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def judge(url: str | None, tmp_path: Path, env: dict[str, str] | None = None, **fields: Any) -> Any:
    spec = MonitorGate.model_validate({"kind": "monitor", "url": url, **fields})
    return monitor.evaluate(spec, GateContext(root=tmp_path, env=env or {}, now=lambda: NOW))


def test_healthy_monitor_passes_with_evidence(peer: tuple[Peer, str], tmp_path: Path) -> None:
    state, url = peer

    result = judge(url, tmp_path, env={"OPS_MONITOR_TOKEN": "s3cret"})

    assert result.status == Status.PASS
    assert result.summary == "full scan fresh, no open critical issues"
    assert "last full scan #1" in result.evidence
    assert "(3.0 h ago)" in result.evidence
    assert "cron daily-full (0 2 * * *): last completed" in result.evidence
    assert all(auth == "Bearer s3cret" for _, auth in state.requests)
    assert any("severity=critical" in path for path, _ in state.requests)


def test_stale_full_scan_fails(peer: tuple[Peer, str], tmp_path: Path) -> None:
    state, url = peer
    state.routes["/api/ops/scans"] = (
        200,
        [scan(1, "full", "completed", NOW - timedelta(hours=30))],
    )

    result = judge(url, tmp_path, max_age_hours=26)

    assert result.status == Status.FAIL
    assert result.summary == "last full scan is 30.0 h old (limit 26 h)"


def test_no_successful_full_scan_fails(peer: tuple[Peer, str], tmp_path: Path) -> None:
    state, url = peer
    state.routes["/api/ops/scans"] = (
        200,
        [scan(1, "full", "failed", NOW), scan(2, "incremental", "completed", NOW)],
    )

    result = judge(url, tmp_path)

    assert result.status == Status.FAIL
    assert "no successful full scan" in result.summary


def test_open_critical_issues_fail_unless_allowed(peer: tuple[Peer, str], tmp_path: Path) -> None:
    state, url = peer
    state.routes["/api/ops/issues"] = (200, [issue(4, "critical")])

    strict = judge(url, tmp_path)
    lenient = judge(url, tmp_path, allow_open_critical=True)

    assert strict.status == Status.FAIL
    assert strict.summary == "1 open critical issue(s)"
    assert "#4 D1_ERROR in route 4 (orchestrator, 7x)" in strict.evidence
    assert lenient.status == Status.PASS
    assert lenient.summary == "full scan fresh, 1 critical issue(s) allowed"


def test_late_cron_fails_and_can_be_ignored(peer: tuple[Peer, str], tmp_path: Path) -> None:
    state, url = peer
    state.routes["/api/ops/cron"] = (
        200,
        [
            {
                "name": "incremental",
                "expression": "0 */4 * * *",
                "scope": "incremental",
                "late": True,
            }
        ],
    )

    assert judge(url, tmp_path).summary == "late cron(s): incremental"
    assert judge(url, tmp_path, check_crons=False).status == Status.PASS


def test_monitor_without_cron_route_is_noted(peer: tuple[Peer, str], tmp_path: Path) -> None:
    state, url = peer
    del state.routes["/api/ops/cron"]

    result = judge(url, tmp_path)

    assert result.status == Status.PASS
    assert "cron status: not offered by this monitor" in result.evidence


def test_monitor_answering_errors_is_an_error(peer: tuple[Peer, str], tmp_path: Path) -> None:
    state, url = peer
    state.routes["/api/ops/cron"] = (500, {"error": "store unavailable"})

    result = judge(url, tmp_path)

    assert result.status == Status.ERROR
    assert "monitor answered 500: store unavailable" in result.summary


def test_unreachable_monitor_is_an_error(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"

    result = judge(url, tmp_path)

    assert result.status == Status.ERROR
    assert result.summary.startswith(f"monitor at {url}: ")


def test_url_from_the_environment(peer: tuple[Peer, str], tmp_path: Path) -> None:
    _, url = peer

    result = judge(None, tmp_path, env={monitor.URL_ENV: url})

    assert result.status == Status.PASS


def test_no_monitor_configured_is_an_error_unless_the_plan_says_it_may_be_absent(
    tmp_path: Path,
) -> None:
    forgotten = judge(None, tmp_path)
    optional = judge(None, tmp_path, missing_url="not-applicable")

    assert forgotten.status == Status.ERROR
    assert monitor.URL_ENV in forgotten.summary
    assert optional.status == Status.NOT_APPLICABLE


def test_launch_with_a_missing_log_file_is_an_error(tmp_path: Path) -> None:
    launch = LaunchMonitor(logs=[LogFile(path="logs/absent.jsonl", format="wrangler")])

    result = judge(None, tmp_path, launch=launch.model_dump())

    assert result.status == Status.ERROR
    assert result.summary == "could not launch a monitor: log file logs/absent.jsonl does not exist"


@pytest.mark.slow
def test_launch_starts_a_real_monitor_feeds_it_and_scans(tmp_path: Path) -> None:
    lines = [
        {
            "timestamp": (NOW - timedelta(minutes=n)).isoformat(),
            "level": "error",
            "source": "factory-billing",
            "message": f"D1_ERROR: no such table: ops_scans (req {n})",
        }
        for n in range(30)
    ]
    logs = tmp_path / "logs" / "apps.jsonl"
    logs.parent.mkdir()
    logs.write_text("\n".join(json.dumps(line) for line in lines) + "\nnot json\n")
    launch = {
        "logs": [{"path": "logs/apps.jsonl", "format": "jsonl"}],
        "settings": {"retention_days": 36500},  # NOW is in the past: keep its records
    }
    spec = MonitorGate.model_validate(
        {"kind": "monitor", "launch": launch, "allow_open_critical": True, "check_crons": False}
    )

    result = monitor.evaluate(spec, GateContext(root=tmp_path, env=dict(os.environ)))

    assert result.status == Status.PASS, result.summary
    assert "pushed logs/apps.jsonl: 30 accepted, 1 malformed" in result.evidence
    assert "ran full scan #" in result.evidence
    assert "last full scan #" in result.evidence
