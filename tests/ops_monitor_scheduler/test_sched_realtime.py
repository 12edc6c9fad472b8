"""Real time, real server: `ops-monitor serve` with a per-minute schedule from configuration runs
a scheduled scan that the scans list, the cron status and the metrics all show.

Driven by events: the test waits for the server's own lines (listening, scan finished); the
timeouts only turn a server that never says them into a failure, and nothing is asserted about
how many seconds anything took."""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import IO, Any

import httpx
import pytest

LISTENING = re.compile(r"Uvicorn running on (http://127\.0\.0\.1:\d+)")
SCAN_FINISHED = re.compile(r'"event": "scan_finished"')
# Failure guards, not expectations: a per-minute tick comes within 60 s of the start.
START_GUARD = 60.0
TICK_GUARD = 180.0


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


class ServerProcess:
    """`ops-monitor serve` in a child process, its stderr read line by line as it comes."""

    def __init__(self, db: Path, schedules: dict[str, str]) -> None:
        env = {
            **os.environ,
            "OPS_MONITOR_SCHEDULES": json.dumps(schedules),
            "PYTHONUNBUFFERED": "1",
        }
        env.pop("OPS_MONITOR_TOKEN", None)
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "ops_monitor",
                "serve",
                "--db",
                f"sqlite:///{db}",
                "--port",
                "0",
            ],
            env=env,
            stderr=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        assert self.process.stderr is not None
        threading.Thread(target=self._pump, args=(self.process.stderr,), daemon=True).start()

    def _pump(self, stream: IO[str]) -> None:
        for line in stream:
            self.lines.put(line.rstrip("\n"))

    def wait_for(self, pattern: re.Pattern[str], timeout: float) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                line = self.lines.get(timeout=min(remaining, 0.5))
            except queue.Empty:
                if self.process.poll() is not None and self.lines.empty():
                    break  # it exited: waiting longer shows nothing more
                continue
            self.seen.append(line)
            if match := pattern.search(line):
                return match
        raise AssertionError(
            f"no {pattern.pattern!r} within {timeout} s; stderr:\n" + "\n".join(self.seen)
        )

    def json_lines(self, event: str) -> list[dict[str, Any]]:
        found = []
        for line in self.seen:
            if line.startswith("{"):
                parsed = json.loads(line)
                if parsed.get("event") == event:
                    found.append(parsed)
        return found

    def stop(self) -> int:
        self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:  # pragma: no cover - only if shutdown hangs
            self.process.kill()
            return self.process.wait()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    process = ServerProcess(tmp_path / "ops.db", {"incremental": "* * * * *"})
    yield process
    if process.process.poll() is None:
        process.stop()


@pytest.mark.slow
def test_serve_runs_a_scheduled_scan_on_the_minute(server: ServerProcess) -> None:
    base = server.wait_for(LISTENING, timeout=START_GUARD).group(1)
    with httpx.Client(base_url=base, timeout=10) as http:
        before = http.get("/api/ops/cron").json()
        assert [row["name"] for row in before["schedules"]] == ["incremental"]
        assert before["schedules"][0]["last_run"] is None
        # nothing was due before the server started: not late (it turns late if no run follows)
        assert (before["schedules"][0]["late"], before["schedules"][0]["state"]) == (
            False,
            "never ran",
        )

        server.wait_for(SCAN_FINISHED, timeout=TICK_GUARD)

        scans = http.get("/api/ops/scans").json()
        after = http.get("/api/ops/cron").json()
        metrics = http.get("/metrics").text

    (scan,) = [scan for scan in scans if scan["trigger"] == "incremental"]
    assert scan["status"] == "completed"
    (line,) = server.json_lines("scan_finished")
    tick = instant(line["tick"])
    assert (line["schedule"], line["catch_up"]) == ("incremental", False)
    assert (tick.second, tick.microsecond) == (0, 0)  # fired for a minute's cron tick
    assert instant(scan["started_at"]) >= tick  # and not before it was due
    (row,) = after["schedules"]
    assert (row["last_outcome"], row["last_scan_id"], row["late"]) == (
        "completed",
        scan["id"],
        False,
    )
    assert (
        'ops_monitor_scheduler_runs_total{outcome="completed",schedule="incremental"} 1.0'
        in metrics
    )
    assert "ops_monitor_scheduler_last_success_timestamp_seconds" in metrics
    assert line["scan_id"] == scan["id"]
    assert line["outcome"] == "completed"
    assert server.stop() == 0
