"""Real stores for the service tests: a SQLite file in tmp_path, and a PostgreSQL schema of its
own per test (dropped afterwards) so parallel runs never collide."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

from ops_monitor.models import LogRecord
from ops_monitor.service import OpsMonitorService
from ops_monitor.store import Store

PG_SERVER = "host=127.0.0.1 port=5432 user=postgres dbname=test connect_timeout=3"
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def _pg_unreachable() -> str | None:
    try:
        with psycopg.connect(PG_SERVER):
            return None
    except psycopg.OperationalError as error:
        return f"PostgreSQL on 127.0.0.1:5432 is unreachable: {str(error).strip()[:120]}"


@pytest.fixture(scope="session")
def pg_unreachable() -> str | None:
    return _pg_unreachable()


@pytest.fixture
def pg_url(pg_unreachable: str | None) -> Iterator[str]:
    if pg_unreachable:
        pytest.skip(pg_unreachable)
    schema = f"svc_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_SERVER, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{PG_URL}?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(PG_SERVER, autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
def sqlite_url(tmp_path: Any) -> str:
    return f"sqlite:///{tmp_path / 'ops.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> str:
    name = "sqlite_url" if request.param == "sqlite" else "pg_url"
    return str(request.getfixturevalue(name))


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    opened = Store(db_url)
    opened.migrate()
    yield opened
    opened.close()


class Clock:
    """The test's clock: it only moves when the test says so."""

    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def service(store: Store, clock: Clock) -> OpsMonitorService:
    return OpsMonitorService(store, clock=clock)


def records(
    source: str,
    count: int,
    *,
    level: str = "error",
    message: str = "payment {i} failed for order {i}",
    at: datetime = NOW - timedelta(hours=1),
    step: timedelta = timedelta(seconds=1),
    **attributes: Any,
) -> list[LogRecord]:
    """`count` records from `source`, one per `step` starting at `at`."""
    return [
        LogRecord(
            timestamp=at + i * step,
            source=source,
            level=level,
            message=message.format(i=i),
            attributes=attributes,
        )
        for i in range(count)
    ]
