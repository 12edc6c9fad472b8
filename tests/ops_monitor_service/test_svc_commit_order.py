"""Incremental scans process every stored record exactly once, even when concurrent writers
commit out of id order (PostgreSQL hands out ids before commit)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import inspect, text

from ops_monitor.service import OpsMonitorService
from ops_monitor.store import Store
from ops_monitor.store.logs import insert_logs, row_of

from .conftest import Clock, records

PUSHERS = 8
BATCHES = 80
BATCH = 40


@pytest.mark.postgres
def test_rows_that_commit_after_a_scan_read_past_their_ids_are_processed_later(
    pg_url: str, clock: Clock
) -> None:
    store = Store(pg_url)
    service = OpsMonitorService(store, clock=clock)
    with store.write() as in_flight:  # a push that took its ids first and commits last
        insert_logs(in_flight, [row_of(record) for record in records("slow", 3)])
        service.ingest(records("fast", 2))
        during = service.run_scan("incremental")
    after = service.run_scan("incremental")
    again = service.run_scan("incremental")

    assert during.logs_processed + after.logs_processed == 5
    assert again.logs_processed == 0
    store.close()


def test_concurrent_pushes_and_frequent_incremental_scans_process_each_record_once(
    db_url: str, clock: Clock
) -> None:
    store = Store(db_url)
    service = OpsMonitorService(store, clock=clock)
    pushing = threading.Event()
    pushing.set()
    processed: list[int] = []

    def push(pusher: int) -> int:
        accepted = 0
        for number in range(BATCHES):
            batch = records(f"pusher-{pusher}", BATCH, message=f"batch {number} item {{i}}")
            accepted += service.ingest(batch)
        return accepted

    def scan_while_pushing() -> None:
        while pushing.is_set():
            processed.append(service.run_scan("incremental").logs_processed)

    scanner = threading.Thread(target=scan_while_pushing)
    scanner.start()
    with ThreadPoolExecutor(PUSHERS) as pushers:
        accepted = sum(pushers.map(push, range(PUSHERS)))
    pushing.clear()
    scanner.join()
    processed.append(service.run_scan("incremental").logs_processed)

    assert accepted == PUSHERS * BATCHES * BATCH
    assert len(processed) > 2  # scans ran while records arrived
    assert sum(processed) == accepted
    store.close()


@pytest.mark.postgres
def test_a_database_scanned_by_id_moves_to_transaction_ids_without_loss_or_repeat(
    pg_url: str, clock: Clock
) -> None:
    store = Store(pg_url)
    service = OpsMonitorService(store, clock=clock)
    service.ingest(records("api", 4))
    service.run_scan("incremental")
    service.ingest(records("api", 3))
    with store.write() as connection:  # back to the version before the cursor, scanned by id
        for table in ("operation_logs", "ops_ingest_batches"):
            connection.execute(text(f"ALTER TABLE {table} DROP COLUMN txid"))
        for table in ("ops_ingest_keys", "ops_ingest_checkpoints"):
            connection.execute(text(f"DROP TABLE {table}"))
        connection.execute(text("DELETE FROM ops_schema_migrations WHERE version = 5"))
        connection.execute(
            text("UPDATE ops_cursors SET position = 4 WHERE name = 'scan.operation_logs'")
        )

    assert store.migrate() == [5]
    with store.read() as connection:
        assert "txid" in {
            column["name"] for column in inspect(connection).get_columns("operation_logs")
        }
    service.ingest(records("api", 2))

    assert service.run_scan("incremental").logs_processed == 5
    assert service.run_scan("incremental").logs_processed == 0
    assert service.run_scan("full").logs_processed == 9
    store.close()
