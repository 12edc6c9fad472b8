"""What the cron monitors cost: one evaluation of many monitors, and check-ins over real HTTP.

An evaluation runs every 30 seconds over every monitor, so its wall time bounds how many
monitors one process can watch; it is timed on a SQLite file for a range of monitor counts, with
nothing due (the common case) and with every monitor's run missed at once. Then check-ins (the
Sentry-style POST) and pings are timed against a real server on 127.0.0.1, as a Worker sends them.

    python benchmarks/bench_cron_monitors.py [--monitors 100 1000] [--checkins 200]
"""

from __future__ import annotations

import argparse
import logging
import socket
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import uvicorn
from fastapi import FastAPI
from figures import record

from ops_monitor.client import OpsMonitorClient
from ops_monitor.commands.serve import build_app
from ops_monitor.config import Settings
from ops_monitor.monitors.config import parse_monitor_config
from ops_monitor.monitors.service import CronMonitors
from ops_monitor.store import Store

START = datetime(2026, 3, 2, 0, 0, 10, tzinfo=UTC)


def evaluations(count: int, folder: Path) -> tuple[float, float]:
    """Median ms of an evaluation with nothing due, and ms of the one where every run is missed
    (the outage threshold is raised so that the jump to the miss is not taken for an outage)."""
    store = Store(f"sqlite:///{folder / f'eval-{count}.db'}")
    store.migrate()
    now = [START]
    monitors = CronMonitors(store, clock=lambda: now[0], outage_after=timedelta(hours=2))
    hourly = parse_monitor_config({"schedule": "0 * * * *", "checkin_margin": 5})
    for index in range(count):
        monitors.declare(f"job-{index}", hourly)
    quiet: list[float] = []
    for _ in range(7):
        now[0] += timedelta(seconds=30)
        started = time.perf_counter()
        monitors.evaluate()
        quiet.append(time.perf_counter() - started)
    now[0] = START + timedelta(hours=1, minutes=6)
    started = time.perf_counter()
    monitors.evaluate()
    missed = time.perf_counter() - started
    store.close()
    return statistics.median(quiet) * 1000, missed * 1000


@contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    """The app on uvicorn in a thread, on a free port of 127.0.0.1; its base URL."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("the server did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        listener.close()


def checkins(count: int, folder: Path) -> tuple[float, float]:
    """Mean ms per Sentry-style check-in and per ping, sequential, against a live server."""
    settings = Settings(db_url=f"sqlite:///{folder / 'http.db'}", scheduler_enabled=False)
    with serving(build_app(settings)) as url, OpsMonitorClient(url) as client:
        key = client.declare_monitor("job", {"schedule": "* * * * *"}).ping_key
        started = time.perf_counter()
        for _ in range(count):
            client.check_in("job", "ok", duration=1)
        api = (time.perf_counter() - started) / count
        with httpx.Client(base_url=url) as http:
            started = time.perf_counter()
            for _ in range(count):
                http.get(f"/ping/{key}").raise_for_status()
            ping = (time.perf_counter() - started) / count
    return api * 1000, ping * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--monitors", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--checkins", type=int, default=200)
    args = parser.parse_args()
    logging.getLogger("ops_monitor").setLevel(logging.ERROR)
    figures: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as folder:
        for count in args.monitors:
            quiet, missed = evaluations(count, Path(folder))
            print(
                f"evaluate {count:>5} monitors (SQLite file): {quiet:8.1f} ms with nothing due, "
                f"{missed:8.1f} ms when every run is missed at once"
            )
            figures[f"evaluate_{count}_quiet_ms"] = round(quiet, 1)
            figures[f"evaluate_{count}_all_missed_ms"] = round(missed, 1)
        api, ping = checkins(args.checkins, Path(folder))
    print(f"check-in over HTTP (SQLite file): {api:.1f} ms each; ping: {ping:.1f} ms each")
    figures.update(checkin_ms=round(api, 1), ping_ms=round(ping, 1), checkins=args.checkins)
    record("cron_monitors", figures)


if __name__ == "__main__":
    main()
