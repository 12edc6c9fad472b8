"""A failing scan is isolated; every run leaves no database connection open."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text

from .conftest import START, LogLines, Monitor, utc


def test_a_failing_scan_is_logged_counted_and_the_next_tick_still_runs(
    sqlite_monitor: Monitor, log_lines: LogLines
) -> None:
    replica = sqlite_monitor.replica()
    with replica.store.write() as connection:  # the database refuses to complete scan 3 (04:00)
        connection.execute(
            text(
                "CREATE TRIGGER refuse_scan_3 BEFORE UPDATE OF status ON ops_scans"
                " WHEN NEW.status = 'completed' AND NEW.id = 3"
                " BEGIN SELECT RAISE(ABORT, 'disk on fire'); END"
            )
        )

    replica.scheduler.run(until=utc("2026-03-02T12:00:30"))

    scans = sqlite_monitor.scans()
    assert [(scan.id, scan.started_at.hour, scan.status) for scan in scans] == [
        (1, 0, "completed"),
        (2, 2, "completed"),
        (3, 4, "failed"),
        (4, 8, "completed"),
        (5, 12, "completed"),
    ]
    assert replica.runs("incremental", "failed") == 1
    assert replica.runs("incremental", "completed") == 2
    (failed,) = [line for line in log_lines.events("scan_finished") if line["outcome"] == "failed"]
    assert failed["scan_id"] == 3
    assert "disk on fire" in failed["error"]
    assert [scan.id for scan in replica.broadcasts] == [1, 2, 4, 5]


def test_a_database_that_is_unreachable_at_a_tick_does_not_end_the_loop(
    sqlite_monitor: Monitor, log_lines: LogLines
) -> None:
    replica = sqlite_monitor.replica({"incremental": "0 */4 * * *"})
    replica.scheduler.begin()
    sqlite_monitor.clock.set(utc("2026-03-02T04:00:01"))
    with replica.store.write() as connection:
        connection.execute(text("ALTER TABLE ops_scans RENAME TO ops_scans_away"))

    replica.scheduler.handle_due(sqlite_monitor.clock())

    with replica.store.write() as connection:
        connection.execute(text("ALTER TABLE ops_scans_away RENAME TO ops_scans"))
    sqlite_monitor.clock.set(utc("2026-03-02T08:00:01"))
    replica.scheduler.handle_due(sqlite_monitor.clock())
    assert [scan.started_at.hour for scan in sqlite_monitor.scans()] == [8]
    assert replica.runs("incremental", "failed") == 1
    (failed,) = [line for line in log_lines.events("scan_finished") if line["outcome"] == "failed"]
    assert "ops_scans" in failed["error"]
    assert failed["scan_id"] is None


@pytest.mark.parametrize("backend", ["sqlite_monitor", "postgres_monitor"])
def test_no_database_connection_stays_open_between_runs(
    backend: str, request: pytest.FixtureRequest
) -> None:
    monitor: Monitor = request.getfixturevalue(backend)
    replica = monitor.replica()
    open_while_sleeping: list[int] = []

    def sleep(seconds: float) -> None:  # the loop sleeps between runs: count what is open then
        open_while_sleeping.append(replica.store.open_connections)
        monitor.clock.sleep(seconds)

    replica.scheduler.sleep = sleep
    monitor.push(10)

    replica.scheduler.run(until=START + timedelta(days=1))

    assert len(monitor.scans()) == 8
    assert len(open_while_sleeping) == 7
    assert set(open_while_sleeping) == {0}
    assert replica.store.connections_opened > 0
