"""A real monitor for integration tests: the real service and store behind a real uvicorn
server, on a SQLite file or a fresh PostgreSQL schema, reached through the real client."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

from ops_monitor.api.app import create_app
from ops_monitor.client import OpsMonitorClient, Scan
from ops_monitor.config import Settings

from .live_server import LiveServer, live_server

PG_SERVER = "host=127.0.0.1 port=5432 user=postgres dbname=test connect_timeout=3"
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"

# Recent enough to sit inside the retention window whenever the tests run.
BASE = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)


def records(
    kind: str, count: int, *, source: str = "checkout", start: int = 0
) -> list[dict[str, Any]]:
    """`count` error records of one template ("<kind> failed after <n> ms"), a second apart."""
    return [
        {
            "timestamp": (BASE + timedelta(seconds=start + i)).isoformat(),
            "source": source,
            "level": "error",
            "message": f"TimeoutError: {kind} call failed after {1000 + i} ms",
            "attributes": {"request_id": f"r{start + i}"},
        }
        for i in range(count)
    ]


@dataclass
class RunningMonitor:
    server: LiveServer
    client: OpsMonitorClient
    db_url: str
    token: str | None = None
    extras: dict[str, Any] = field(default_factory=dict)

    def push(self, batch: list[dict[str, Any]]) -> int:
        return self.client.push_logs(batch).accepted

    def scan(self, scope: str) -> Scan:
        return self.client.scan(scope)


@contextmanager
def running_monitor(
    db_url: str,
    *,
    token: str | None = None,
    max_push_bytes: int = 8 * 1024 * 1024,
    **settings_fields: Any,
) -> Iterator[RunningMonitor]:
    settings = Settings(
        db_url=db_url, token=token, max_push_bytes=max_push_bytes, **settings_fields
    )
    app = create_app(settings)
    with live_server(app) as server, OpsMonitorClient(server.url, token=token) as client:
        yield RunningMonitor(server, client, db_url, token)


@contextmanager
def postgres_schema() -> Iterator[str]:
    """A database URL whose search path is a new, empty schema, dropped afterwards."""
    try:
        admin = psycopg.connect(PG_SERVER, autocommit=True)
    except psycopg.OperationalError as error:
        pytest.skip(f"PostgreSQL on 127.0.0.1:5432 is unreachable: {error}")
    schema = f"api_{uuid.uuid4().hex[:12]}"
    with admin:
        admin.execute(f'CREATE SCHEMA "{schema}"')
        try:
            yield f"{PG_URL}?options=-csearch_path%3D{schema}"
        finally:
            admin.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A SQLite file, and a fresh PostgreSQL schema: the live tests run on both. Test packages
    that need it import it into their conftest (pytest finds fixtures by name)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'ops.db'}"
    else:
        with postgres_schema() as url:
            yield url


@contextmanager
def writes_blocked(db_url: str) -> Iterator[None]:
    """Hold the database's write lock from outside the monitor, as a long migration or backup
    would: a scan that has its scan lock then waits at its first write until this block ends."""
    url = make_url(db_url)
    if url.get_backend_name() == "sqlite":
        connection = sqlite3.connect(str(url.database), isolation_level=None)
        connection.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            connection.execute("ROLLBACK")
            connection.close()
        return
    engine = create_engine(url)
    try:
        with engine.connect() as locked, locked.begin():
            locked.exec_driver_sql("LOCK TABLE ops_scans IN SHARE ROW EXCLUSIVE MODE")
            yield
    finally:
        engine.dispose()
