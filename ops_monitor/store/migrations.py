"""Versioned schema migrations kept in a small table, `ops_schema_migrations`.

Why not Alembic: the schema is a handful of tables owned by one package, migrations must run
unattended at start on SQLite and PostgreSQL alike, and an ordered list of Python functions with
one row per applied version gives exactly that without shipping an Alembic environment and
script directory inside the wheel. Each migration runs in its own transaction together with its
version row, under a lock (`BEGIN IMMEDIATE` on SQLite, an advisory lock on PostgreSQL), so two
processes starting at once apply it exactly once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, inspect, select, text

from ops_monitor.store import schema


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    apply: Callable[[Connection], None]


def _initial(connection: Connection) -> None:
    tables = [
        table for table in schema.metadata.sorted_tables if table.name != "ops_schema_migrations"
    ]
    schema.metadata.create_all(connection, tables=tables)


def _error_counts_index(connection: Connection) -> None:
    """Databases made by version 1 lack the index; those made since have it from `_initial`."""
    (index,) = [i for i in schema.operation_logs.indexes if i.name == "operation_logs_level_ts"]
    index.create(connection, checkfirst=True)


LOG_SEARCH_INDEXES = ("operation_logs_source_level_ts", "operation_logs_source_ts")


def _log_search_indexes(connection: Connection) -> None:
    """Log search walks these backwards (newest first); new databases get them from `_initial`."""
    for index in schema.operation_logs.indexes:
        if index.name in LOG_SEARCH_INDEXES:
            index.create(connection, checkfirst=True)


CONSOLE_TABLES = ("ops_issue_events", "ops_issue_ignores", "ops_alert_deliveries")


def _console_tables(connection: Connection) -> None:
    """Issue history, ignore rules and alert deliveries; new databases get them from `_initial`."""
    tables = [schema.metadata.tables[name] for name in CONSOLE_TABLES]
    schema.metadata.create_all(connection, tables=tables, checkfirst=True)


# The cursors scans keep (see `ops_monitor.service`) for the two tables a scan reads by position.
_CURSORS = {"operation_logs": "scan.operation_logs", "ops_ingest_batches": "scan.ingest_batches"}
_CURRENT_TXID = "(pg_current_xact_id()::text::bigint)"


def _commit_order(connection: Connection) -> None:
    """Idempotency keys, file checkpoints, and a commit-ordered scan cursor on PostgreSQL.

    Each row records its writing transaction (`txid`), and PostgreSQL cursors move from ids to
    transaction ids: rows a scan already read keep txid 0 (below any cursor), rows it has not
    read yet get this transaction's id, and the cursor is set just below it, so the next scan
    reads exactly the rows it would have read by id, and every later one in commit order."""
    for table in (schema.ingest_keys, schema.ingest_checkpoints):
        table.create(connection, checkfirst=True)
    existing = inspect(connection)
    for name in _CURSORS:
        if "txid" not in {column["name"] for column in existing.get_columns(name)}:
            connection.execute(
                text(f"ALTER TABLE {name} ADD COLUMN txid BIGINT NOT NULL DEFAULT 0")
            )
    if connection.dialect.name != "postgresql":
        return  # one writer at a time: ids are in commit order
    cursors = schema.cursors
    for name, cursor in _CURSORS.items():
        connection.execute(
            text(f"ALTER TABLE {name} ALTER COLUMN txid SET DEFAULT {_CURRENT_TXID}")
        )
        connection.execute(text(f"CREATE INDEX IF NOT EXISTS {name}_txid ON {name} (txid)"))
        position = connection.scalar(select(cursors.c.position).where(cursors.c.name == cursor))
        connection.execute(
            text(f"UPDATE {name} SET txid = {_CURRENT_TXID} WHERE id > :read"),  # noqa: S608
            {"read": position or 0},
        )
        connection.execute(
            cursors.update()
            .where(cursors.c.name == cursor)
            .values(position=text(f"{_CURRENT_TXID} - 1"), updated_at=datetime.now(UTC))
        )


def _cron_monitors(connection: Connection) -> None:
    """Self-contained: its own tables only, whatever number it ends up with."""
    from ops_monitor.store import monitor_schema

    monitor_schema.metadata.create_all(connection, checkfirst=True)


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "operation logs, ingest batches, scans, issues, cursors, state", _initial),
    Migration(2, "operation logs: covering index on level, ts, source", _error_counts_index),
    Migration(3, "operation logs: indexes for log search by source and level", _log_search_indexes),
    Migration(4, "issue history, issue ignore rules, alert deliveries", _console_tables),
    Migration(5, "idempotency keys, ingest checkpoints, commit-ordered cursor", _commit_order),
    Migration(6, "cron monitors and their check-ins", _cron_monitors),
)
LATEST = MIGRATIONS[-1].version


def applied_versions(connection: Connection) -> set[int]:
    if not connection.dialect.has_table(connection, schema.schema_migrations.name):
        return set()
    return set(connection.scalars(select(schema.schema_migrations.c.version)))


def pending(connection: Connection) -> list[Migration]:
    done = applied_versions(connection)
    return [migration for migration in MIGRATIONS if migration.version not in done]


def record(connection: Connection, migration: Migration) -> None:
    connection.execute(
        schema.schema_migrations.insert().values(
            version=migration.version, name=migration.name, applied_at=datetime.now(UTC)
        )
    )
