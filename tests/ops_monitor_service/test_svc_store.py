"""The store on real SQLite files and PostgreSQL schemas: migrations, locks, connections."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, inspect, text

from ops_monitor.analysis.candidates import ERROR_LEVELS
from ops_monitor.store import ScanLockHeld, Store
from ops_monitor.store import logs as log_rows
from ops_monitor.store.migrations import LATEST, MIGRATIONS

EVERY_VERSION = [migration.version for migration in MIGRATIONS]


def test_migrations_create_every_table_once(db_url: str) -> None:
    store = Store(db_url)

    first = store.migrate()
    second = store.migrate()

    assert first == EVERY_VERSION
    assert second == []
    assert store.schema_version() == LATEST
    with store.read() as connection:
        tables = set(inspect(connection).get_table_names())
    assert {"operation_logs", "ops_scans", "ops_issues", "ops_cursors"} <= tables
    store.close()


def test_a_fresh_database_reports_schema_version_zero(tmp_path: Path) -> None:
    (tmp_path / "new").mkdir()  # the store creates the file, never missing directories
    store = Store(f"sqlite:///{tmp_path / 'new' / 'ops.db'}")
    assert store.schema_version() == 0
    assert store.migrate() == EVERY_VERSION


def test_a_version_1_database_gains_the_error_counts_index(db_url: str) -> None:
    store = Store(db_url)
    store.migrate()
    with store.write() as connection:  # what a database made by version 1 looks like
        connection.execute(text("DROP INDEX operation_logs_level_ts"))
        connection.execute(text("DELETE FROM ops_schema_migrations WHERE version >= 2"))

    assert store.schema_version() == 1
    assert store.migrate() == EVERY_VERSION[1:]  # 2 and every later one
    with store.read() as connection:
        indexes = {i["name"] for i in inspect(connection).get_indexes("operation_logs")}
    assert "operation_logs_level_ts" in indexes
    store.close()


def test_error_counts_read_only_the_covering_index_on_sqlite(sqlite_url: str) -> None:
    store = Store(sqlite_url)
    store.migrate()
    seen: list[tuple[str, Any]] = []

    def remember(*args: Any) -> None:
        seen.append((args[2], args[3]))  # (statement, parameters) as sent to the driver

    event.listen(store.engine, "before_cursor_execute", remember)
    with store.read() as connection:
        log_rows.error_counts(connection, 0, 10, 60_000_000, ERROR_LEVELS, None)
        ((statement, parameters),) = [sent for sent in seen if "GROUP BY" in sent[0]]
        rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters).all()
    plan = " ".join(str(row[-1]) for row in rows)
    assert "COVERING INDEX operation_logs_level_ts" in plan
    store.close()


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(sqlite_url: str) -> None:
    store = Store(sqlite_url)
    store.migrate()
    with store.read() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000


def test_the_scan_lock_admits_one_holder_across_store_instances(db_url: str) -> None:
    first, second = Store(db_url), Store(db_url)
    with first.scan_lock(), pytest.raises(ScanLockHeld), second.scan_lock():
        pass  # pragma: no cover - never entered
    with second.scan_lock():  # released when the first holder left
        pass
    first.close()
    second.close()


def test_in_memory_store_locks_within_the_process() -> None:
    store = Store("sqlite://")
    store.migrate()
    with store.scan_lock(), pytest.raises(ScanLockHeld), store.scan_lock():
        pass  # pragma: no cover - never entered


def test_connections_are_closed_after_each_operation(store: Store) -> None:
    with store.read() as connection:
        connection.execute(text("SELECT 1"))
        assert store.open_connections >= 1
    store.close()
    assert store.open_connections == 0
    assert store.connections_opened >= 1


def test_a_failed_write_rolls_back_everything(store: Store) -> None:
    def write_then_fail() -> None:
        with store.write() as connection:
            connection.execute(
                text("INSERT INTO ops_cursors (name, position, updated_at) VALUES ('x', 1, :t)"),
                {"t": "2026-01-01 00:00:00"},
            )
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        write_then_fail()
    with store.read() as connection:
        assert connection.execute(text("SELECT count(*) FROM ops_cursors")).scalar() == 0
