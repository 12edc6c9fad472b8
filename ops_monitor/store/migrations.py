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

from sqlalchemy import Connection, select

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


def _cron_monitors(connection: Connection) -> None:
    """Self-contained: its own tables only, whatever number it ends up with."""
    from ops_monitor.store import monitor_schema

    monitor_schema.metadata.create_all(connection, checkfirst=True)


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "operation logs, ingest batches, scans, issues, cursors, state", _initial),
    Migration(2, "operation logs: covering index on level, ts, source", _error_counts_index),
    Migration(3, "cron monitors and their check-ins", _cron_monitors),
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
