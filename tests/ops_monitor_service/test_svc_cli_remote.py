"""`scan`, `issues` and `resolve` through a running monitor (--url): a real uvicorn server on
127.0.0.1 serving the real API over a SQLite file."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import uvicorn

from ops_monitor.api.app import create_app
from ops_monitor.cli import main
from ops_monitor.config import Settings
from ops_monitor.service import OpsMonitorService
from ops_monitor.store import Store

from .conftest import records


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def monitor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'remote.db'}"
    store = Store(url)
    store.migrate()
    OpsMonitorService(store).ingest(records("api", 4, at=datetime.now(UTC) - timedelta(hours=1)))
    store.close()
    settings = replace(Settings(), db_url=url, token=None)
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    monkeypatch.delenv("OPS_MONITOR_TOKEN", raising=False)
    monkeypatch.setenv("OPS_MONITOR_DB", f"sqlite:///{tmp_path / 'unused.db'}")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(20)


def test_scan_issues_and_resolve_through_the_http_api(
    monitor: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert main(["scan", "--scope", "full", "--url", monitor, "--json"]) == 0
    scan = json.loads(capsys.readouterr().out)
    assert (scan["status"], scan["logs_processed"], scan["issues_filed"]) == ("completed", 4, 1)

    monkeypatch.setenv("OPS_MONITOR_URL", monitor)
    assert main(["issues", "--json"]) == 0
    [issue] = json.loads(capsys.readouterr().out)
    assert issue["source"] == "api"

    assert main(["resolve", str(issue["id"]), "fixed upstream"]) == 0
    assert "resolved issue" in capsys.readouterr().out
    assert main(["issues", "--status", "resolved"]) == 0
    assert "fixed" not in capsys.readouterr().err

    assert main(["scan", "--source", "api"]) == 0
    assert "(incremental) completed" in capsys.readouterr().out


def test_an_unreachable_monitor_is_a_one_line_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPS_MONITOR_DB", f"sqlite:///{tmp_path / 'x.db'}")
    url = f"http://127.0.0.1:{_free_port()}"
    for argv in (["scan"], ["issues"], ["resolve", "1", "x"]):
        assert main([*argv, "--url", url]) == 1
        err = capsys.readouterr().err
        assert err.startswith(f"ops-monitor: error: {url}:")
        assert len(err.strip().splitlines()) == 1
