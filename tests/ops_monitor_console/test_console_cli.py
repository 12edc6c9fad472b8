"""`ops-monitor issues show ID` (local and through --url), `issues` still lists as before, and
`ops-monitor logs --follow` printing records as they arrive."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from ops_monitor.cli import main

from .served import served_monitor

NOW = datetime.now(UTC).replace(microsecond=0)


def failures(count: int) -> list[dict[str, Any]]:
    return [
        {
            "timestamp": (NOW - timedelta(minutes=30) + timedelta(seconds=i)).isoformat(),
            "source": "search",
            "level": "error",
            "message": f"GET /api/search/{i}?q=shoes -> 500 index unavailable",
            "attributes": {"shard": i % 3},
        }
        for i in range(6)
    ][:count]


def test_issues_show_prints_the_issue_in_full(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPS_MONITOR_URL", raising=False)
    db = f"sqlite:///{tmp_path / 'ops.db'}"
    with served_monitor(db) as monitor:
        monitor.push(failures(6))
        monitor.client.scan("full")
        assert monitor.server.app.state.alerts.drain()
        [issue] = monitor.client.open_issues()
        capsys.readouterr()
        assert main(["issues", "show", str(issue.id), "--url", monitor.url, "--json"]) == 0
        remote = json.loads(capsys.readouterr().out)

    assert main(["issues", "show", str(issue.id), "--db", db]) == 0
    text = capsys.readouterr().out
    assert main(["issues", "--db", db, "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert main(["issues", "show", "99", "--db", db]) == 2

    assert remote["issue"]["fingerprint"] == issue.fingerprint
    assert [e["kind"] for e in remote["history"]] == ["new"]
    assert issue.title == "Errors in search: GET /api/search/<n>?q=<*> -> 500 index unavailable"
    assert issue.fingerprint in text
    assert "GET /api/search/5?q=shoes -> 500 index unavailable" in text  # a full record
    assert '{"shard": 2}' in text
    assert "█" in text  # the occurrence chart
    assert [i["id"] for i in listed] == [issue.id]


def test_logs_follow_prints_records_as_they_arrive(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'ops.db'}"
    with served_monitor(db) as monitor:
        monitor.push(failures(2))
        env = {k: v for k, v in os.environ.items() if not k.startswith("OPS_MONITOR_")}
        follower = subprocess.Popen(
            [sys.executable, "-m", "ops_monitor", "logs", "--db", db, "--follow", "--json"],
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        try:
            assert follower.stdout is not None
            before = [json.loads(follower.stdout.readline()) for _ in range(2)]
            monitor.push(
                [
                    {
                        "timestamp": datetime.now(UTC).isoformat(),
                        "source": "search",
                        "level": "info",
                        "message": "index rebuilt",
                    }
                ]
            )
            arrived = json.loads(follower.stdout.readline())  # blocks until it is printed
        finally:
            follower.terminate()
            follower.wait(timeout=10)

    assert [r["message"] for r in before] == [
        "GET /api/search/0?q=shoes -> 500 index unavailable",
        "GET /api/search/1?q=shoes -> 500 index unavailable",
    ]
    assert arrived["message"] == "index rebuilt"
