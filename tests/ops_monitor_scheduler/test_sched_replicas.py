"""Two scheduler replicas on one database run each tick exactly once (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from .conftest import Monitor, Replica, utc

DAY_TICKS = [
    utc("2026-03-02T00:00:30") + timedelta(hours=hour, minutes=59, seconds=31) for hour in range(24)
]


def together(replicas: list[Replica], action: Callable[[Replica], object]) -> None:
    """Let every replica act at the same moment, each on its own thread."""
    barrier = threading.Barrier(len(replicas))

    def act(replica: Replica) -> None:
        barrier.wait()
        action(replica)

    with ThreadPoolExecutor(len(replicas)) as pool:
        for future in [pool.submit(act, replica) for replica in replicas]:
            future.result()


@pytest.mark.parametrize("backend", ["sqlite_monitor", "postgres_monitor"])
def test_two_replicas_run_each_tick_once(backend: str, request: pytest.FixtureRequest) -> None:
    monitor: Monitor = request.getfixturevalue(backend)
    replicas = [monitor.replica(), monitor.replica()]

    together(replicas, lambda replica: replica.scheduler.begin())  # both want to catch up
    for moment in DAY_TICKS:  # every hour, just past the hour
        monitor.clock.set(moment)
        together(replicas, lambda replica: replica.scheduler.handle_due(monitor.clock()))

    scans = monitor.scans()
    expected_ticks = 1 + 6 + 1  # the catch-up, six incremental ticks, the 02:00 full tick
    assert len(scans) == expected_ticks
    assert [scan.trigger for scan in scans].count("full") == 2
    assert all(scan.status == "completed" for scan in scans)
    ran = sum(replica.runs(s) for replica in replicas for s in ("full", "incremental"))
    declined = sum(
        replica.skips(schedule, reason)
        for replica in replicas
        for schedule in ("full", "incremental")
        for reason in ("claimed", "busy")
    )
    assert (ran, declined) == (expected_ticks, expected_ticks)


def test_a_replica_that_arrives_after_the_tick_ran_does_not_run_it_again(
    sqlite_monitor: Monitor,
) -> None:
    first, late = sqlite_monitor.replica(), sqlite_monitor.replica()
    first.scheduler.begin()
    late.scheduler.begin()  # the catch-up already ran: nothing to do
    sqlite_monitor.clock.set(utc("2026-03-02T04:00:02"))

    first.scheduler.handle_due(sqlite_monitor.clock())
    late.scheduler.handle_due(sqlite_monitor.clock())

    assert [scan.trigger for scan in sqlite_monitor.scans()] == ["full", "incremental"]
    assert late.skips("incremental", "claimed") == 1
    assert late.runs("incremental") == 0
