"""Crash safety: a scan killed with SIGKILL after it has written everything but before it
commits leaves no issue, no moved cursor, and a next scan that succeeds."""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select

from ops_monitor.service import LOG_CURSOR, OpsMonitorService
from ops_monitor.store import Store
from ops_monitor.store import scans as scan_rows
from ops_monitor.store.schema import issues

from .conftest import NOW, records

FINISH_READING = 5  # the clock's fifth reading stamps finished_at, inside the write transaction


def _scan_until_frozen(db_url: str, flag: str) -> None:
    """Child process: run a scan whose clock, when asked for the finish time, tells the parent
    and then never answers (the parent kills it there)."""
    calls = 0

    def clock() -> datetime:
        nonlocal calls
        calls += 1
        if calls == FINISH_READING:
            Path(flag).write_text("in the write transaction")
            time.sleep(60)
        return NOW

    store = Store(db_url)
    OpsMonitorService(store, clock=clock).run_scan("full", trigger="doomed")


def test_sigkill_mid_scan_leaves_no_partial_issues(db_url: str, tmp_path: Path) -> None:
    store = Store(db_url)
    store.migrate()
    service = OpsMonitorService(store, clock=lambda: NOW)
    service.ingest(records("api", 10) + records("worker", 5, message="TypeError at {i}"))
    flag = tmp_path / "frozen"

    child = multiprocessing.get_context("fork").Process(
        target=_scan_until_frozen, args=(db_url, str(flag))
    )
    child.start()
    deadline = time.monotonic() + 30
    while not flag.exists() and time.monotonic() < deadline and child.is_alive():
        time.sleep(0.02)
    assert flag.exists(), "the child scan never reached its write transaction"
    os.kill(child.pid or 0, signal.SIGKILL)
    child.join(10)

    with store.read() as connection:
        assert connection.scalar(select(func.count()).select_from(issues)) == 0
        assert scan_rows.get_cursor(connection, LOG_CURSOR) == 0
    interrupted = service.last_scan()
    assert interrupted is not None
    assert (interrupted.status, interrupted.trigger) == ("running", "doomed")
    assert service.running_scan_id() is None  # nothing holds the lock: the row is stale
    recovered = service.last_scan()
    assert recovered is not None
    assert recovered.status == "failed"

    result = service.run_scan("full")

    assert result.status == "completed"
    assert result.issues_filed == 2
    assert result.logs_processed == 15
    killed = service.recent_scans()[1]
    assert (killed.id, killed.status) == (interrupted.id, "failed")
    assert killed.error is not None
    assert killed.error.startswith("interrupted")
    store.close()
