"""Two `serve` replicas on one database: concurrent pushes to both lose and duplicate nothing,
scans on either process every record once, and `/metrics` describes the store the same way
from both."""

from __future__ import annotations

import itertools
import re
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from .live_monitor import RunningMonitor, postgres_schema, records, running_monitor

PUSHERS = 6
PUSHES = 12
BATCH = 200


def store_series(monitor: RunningMonitor) -> dict[str, float]:
    """The `ops_monitor_store_*` samples of the monitor's `/metrics`, by series and labels."""
    body = httpx.get(f"{monitor.server.url}/metrics").text
    found = re.findall(r"^(ops_monitor_store_\w+(?:\{[^}]*\})?) (\S+)$", body, re.MULTILINE)
    return {name: float(value) for name, value in found}


def test_store_metrics_count_what_the_database_holds(db_url: str) -> None:
    with running_monitor(db_url) as monitor:
        monitor.push(records("payment", 30) + records("refund", 5, start=100))
        monitor.scan("full")

        series = store_series(monitor)

    assert series["ops_monitor_store_records"] == 35
    assert sum(v for k, v in series.items() if k.startswith("ops_monitor_store_open_issues")) == 2
    assert 'ops_monitor_store_open_issues{severity="low"}' in series
    assert series['ops_monitor_store_last_scan_timestamp_seconds{scope="full"}'] > 0


@pytest.mark.postgres
def test_two_replicas_taking_concurrent_pushes_lose_and_duplicate_nothing() -> None:
    with (
        postgres_schema() as url,
        running_monitor(url) as first,
        running_monitor(url) as second,
    ):
        replicas = (first, second)
        pushing = threading.Event()
        pushing.set()
        processed: list[int] = []

        def push(pusher: int) -> int:
            replica = replicas[pusher % 2]
            accepted = 0
            for number in range(PUSHES):
                batch = records(f"p{pusher}", BATCH, start=number * BATCH)
                key = f"pusher-{pusher}-push-{number}"
                response = httpx.post(
                    f"{replica.server.url}/api/ops/logs",
                    json=batch,
                    headers={"Idempotency-Key": key},
                    timeout=60,
                )
                accepted += response.json()["accepted"]
                retry = httpx.post(  # the answer was lost: the producer sends it again
                    f"{replicas[(pusher + 1) % 2].server.url}/api/ops/logs",
                    json=batch,
                    headers={"Idempotency-Key": key},
                    timeout=60,
                )
                assert retry.json()["replayed"] is True
            return accepted

        def scan_while_pushing() -> None:
            for replica in itertools.cycle(replicas):
                if not pushing.is_set():
                    return
                processed.append(replica.scan("incremental").logs_processed)

        scanner = threading.Thread(target=scan_while_pushing)
        scanner.start()
        with ThreadPoolExecutor(PUSHERS) as pushers:
            accepted = sum(pushers.map(push, range(PUSHERS)))
        pushing.clear()
        scanner.join()
        processed.append(second.scan("incremental").logs_processed)

        assert accepted == PUSHERS * PUSHES * BATCH
        assert sum(processed) == accepted
        from_first, from_second = store_series(first), store_series(second)
        assert from_first == from_second
        assert from_first["ops_monitor_store_records"] == accepted
