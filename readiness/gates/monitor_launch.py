"""A throwaway ops monitor for the `monitor` gate's `launch` option.

The monitor runs as a subprocess (`python -m ops_monitor serve`) on a temporary SQLite file and
a free loopback port, so `readiness` never imports the server and a demo needs no setup. JSON-line
logs are pushed through the client like any producer would; other formats (wrangler tail events,
plain text) are read by the monitor's own `ingest` command, which owns their parsing.
"""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ops_monitor.client import MonitorClientError, OpsMonitorClient
from readiness import cron_monitors
from readiness.plan import LaunchMonitor

PUSH_BATCH = 500


class LaunchError(RuntimeError):
    """The throwaway monitor could not be started or fed."""


@dataclass
class LaunchedMonitor:
    url: str
    database: str
    notes: list[str] = field(default_factory=list)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextlib.contextmanager
def launched_monitor(
    spec: LaunchMonitor, root: Path, env: Mapping[str, str], token: str | None
) -> Iterator[LaunchedMonitor]:
    env = monitor_environment(spec, env)
    with tempfile.TemporaryDirectory(prefix="readiness-monitor-") as folder:
        database = f"sqlite:///{Path(folder) / 'ops.db'}"
        launched = LaunchedMonitor(f"http://127.0.0.1:{free_port()}", database)
        _ingest_files(spec, root, env, database, launched)
        log_path = Path(folder) / "serve.log"
        port = launched.url.rsplit(":", 1)[1]
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "ops_monitor",
                    "serve",
                    "--db",
                    database,
                    "--host",
                    "127.0.0.1",
                    "--port",
                    port,
                ],
                env=dict(env),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
            try:
                with OpsMonitorClient(launched.url, token=token, timeout=30) as client:
                    _wait_until_up(client, process, spec.startup_timeout, log_path)
                    _push_jsonl(spec, root, client, launched)
                    _replay_checkins(spec, root, client, launched)
                yield launched
            finally:
                _stop(process)


def monitor_environment(spec: LaunchMonitor, env: Mapping[str, str]) -> dict[str, str]:
    """The environment with the plan's monitor settings, as the monitor reads them."""
    settings = {f"OPS_MONITOR_{name.upper()}": str(value) for name, value in spec.settings.items()}
    return {**env, **settings}


def _ingest_files(
    spec: LaunchMonitor,
    root: Path,
    env: Mapping[str, str],
    database: str,
    launched: LaunchedMonitor,
) -> None:
    for log in spec.logs:
        if log.format == "jsonl":
            continue
        path = root / log.path
        if not path.is_file():
            raise LaunchError(f"log file {log.path} does not exist")
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "ops_monitor",
                "ingest",
                str(path),
                "--format",
                log.format,
                "--db",
                database,
            ],
            env=dict(env),
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if done.returncode != 0:
            reason = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
            raise LaunchError(f"ingesting {log.path} failed: {reason[0]}")
        launched.notes.append(f"ingested {log.path} ({log.format}): {done.stdout.strip()}")


def _wait_until_up(
    client: OpsMonitorClient, process: subprocess.Popen[bytes], timeout: float, log: Path
) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            tail = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-3:]
            raise LaunchError(f"the monitor exited with {process.returncode}: {' | '.join(tail)}")
        try:
            client.health()
            return
        except MonitorClientError as error:
            if time.monotonic() > deadline:
                why = f"the monitor was not healthy within {timeout:g}s (last: {error})"
                raise LaunchError(why) from None
            time.sleep(0.1)


def _push_jsonl(
    spec: LaunchMonitor, root: Path, client: OpsMonitorClient, launched: LaunchedMonitor
) -> None:
    for log in spec.logs:
        if log.format != "jsonl":
            continue
        path = root / log.path
        if not path.is_file():
            raise LaunchError(f"log file {log.path} does not exist")
        accepted = malformed = 0
        batch: list[dict[str, Any]] = []
        with path.open(encoding="utf-8") as lines:
            for line in lines:
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except ValueError:
                    malformed += 1
                    continue
                batch.append(record if isinstance(record, dict) else {"message": line})
                if len(batch) >= PUSH_BATCH:
                    result = client.push_logs(batch)
                    accepted, malformed = accepted + result.accepted, malformed + result.malformed
                    batch = []
        if batch:
            result = client.push_logs(batch)
            accepted, malformed = accepted + result.accepted, malformed + result.malformed
        launched.notes.append(f"pushed {log.path}: {accepted} accepted, {malformed} malformed")


def _replay_checkins(
    spec: LaunchMonitor, root: Path, client: OpsMonitorClient, launched: LaunchedMonitor
) -> None:
    """Declare the repository's cron monitors, watched since the history begins, replay the
    history's check-ins and evaluate, as if the monitor had been watching the Workers."""
    if spec.checkin_history is None:
        return
    path = root / spec.checkin_history
    try:
        history = cron_monitors.History.load(path)
    except cron_monitors.HistoryError as error:
        raise LaunchError(str(error)) from None
    now = datetime.now(UTC)
    found = cron_monitors.triggers(root)
    synced = cron_monitors.sync(found, client, since=lambda slug: history.since(slug, now))
    sent = cron_monitors.replay(history, client, now)
    client.evaluate_monitors()
    declared = sum(1 for item in synced if item.slug is not None)
    launched.notes.append(
        f"declared {declared} cron monitor(s) from the Wrangler configs and replayed "
        f"{sent} check-in(s) of {spec.checkin_history}"
    )


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:  # pragma: no cover - uvicorn stops on SIGTERM
        process.kill()
        process.wait()
