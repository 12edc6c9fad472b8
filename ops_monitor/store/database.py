"""`Store`: one database (SQLite file or PostgreSQL), its migrations, its locks, its connections.

SQLite runs in WAL mode with a busy timeout so ingest and API reads proceed while a scan
analyses; write transactions start with `BEGIN IMMEDIATE` so two writers queue on the busy
timeout instead of failing half-way. Connections are not pooled for SQLite files, so every
connection a caller closes is really closed: tests count them (`open_connections`).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout
from sqlalchemy import Connection, Engine, create_engine, event, pool, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

from ops_monitor.store import migrations, schema

SQLITE_BUSY_TIMEOUT_MS = 30_000
# PostgreSQL: a database that is down or stalled must cost a caller seconds, not minutes.
CONNECT_TIMEOUT_SECONDS = 5.0
STATEMENT_TIMEOUT_SECONDS = 60.0
POOL_TIMEOUT_SECONDS = 3.0
# TCP keepalives notice a peer that vanished (host down, network cut) on an idle connection.
_KEEPALIVES = {
    "keepalives": 1,
    "keepalives_idle": 10,
    "keepalives_interval": 5,
    "keepalives_count": 3,
}


class ScanLockHeld(Exception):
    """Another scan holds the store's scan lock (in this process or another one)."""


class DatabaseURLError(ValueError):
    """The URL cannot name a database we can open: unparseable, an unknown kind of database, a
    driver that is not installed, or a SQLite file in a directory that does not exist. Retrying
    never helps, so callers treat it as a usage error."""


class DatabaseUnavailable(RuntimeError):
    """The database could not be opened or reached. The message names it (password masked) and
    gives the driver's reason on one line, for an operator to act on."""


def public_url(url: str | URL) -> str:
    """The URL with any password masked, for messages."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return "<unparseable url>"
    return parsed.render_as_string(hide_password=True)


def driver_reason(error: BaseException) -> str:
    """What the driver said, on one line: SQLAlchemy's wrapper adds the failed SQL and a link."""
    original = error.orig if isinstance(error, DBAPIError) and error.orig is not None else error
    reason = " ".join(str(original).split())
    return reason or type(original).__name__


def is_memory_url(url: str | URL) -> bool:
    """Whether `url` is an in-memory SQLite database, which lives only as long as its process."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return False
    database = parsed.database or ""
    return (
        database in ("", ":memory:")
        or database.startswith("file::memory:")
        or parsed.query.get("mode") == "memory"
    )


def _sqlite_file(database: str, url: str) -> Path:
    """The database file, whose directory must exist (the file itself is created if missing)."""
    if database.startswith("file:"):  # URI form: sqlite:///file:path?mode=...&uri=true
        database = database.removeprefix("file:").split("?", 1)[0]
    path = Path(database).resolve()
    if not path.parent.is_dir():
        what = "is not a directory" if path.parent.exists() else "does not exist"
        raise DatabaseURLError(
            f"database {public_url(url)}: directory {path.parent} {what} "
            "(create it first, or fix the path)"
        )
    return path


class Store:
    """The monitor's database. `migrate()` before first use; `close()` when done."""

    def __init__(
        self,
        url: str,
        *,
        echo: bool = False,
        connect_timeout: float = CONNECT_TIMEOUT_SECONDS,
        statement_timeout: float = STATEMENT_TIMEOUT_SECONDS,
        pool_timeout: float = POOL_TIMEOUT_SECONDS,
    ) -> None:
        """On PostgreSQL, connecting gives up after `connect_timeout` seconds, any statement
        (a lock wait included) after `statement_timeout`, and waiting for a pooled connection
        after `pool_timeout`; each then raises, and callers answer "unavailable"."""
        self.url = url
        try:
            parsed = make_url(url)
        except ArgumentError as error:
            raise DatabaseURLError(f"not a database URL: {public_url(url)}") from error
        self.dialect = parsed.get_backend_name()
        self._memory_lock = threading.Lock()
        self._connections_opened = 0
        self._connections_closed = 0
        self._count_lock = threading.Lock()
        self.sqlite_path: Path | None = None
        kwargs: dict[str, Any] = {"echo": echo}
        if self.dialect == "sqlite":
            database = parsed.database or ""
            if is_memory_url(parsed):
                kwargs["poolclass"] = pool.StaticPool
                kwargs["connect_args"] = {"check_same_thread": False}
            else:
                self.sqlite_path = _sqlite_file(database, url)
                kwargs["poolclass"] = pool.NullPool
        else:
            kwargs["pool_pre_ping"] = True
            kwargs["pool_timeout"] = pool_timeout
            kwargs["connect_args"] = _postgres_timeouts(parsed, connect_timeout, statement_timeout)
        try:
            self.engine: Engine = create_engine(url, **kwargs)
        except NoSuchModuleError as error:
            raise DatabaseURLError(
                f"database {public_url(url)}: unknown kind of database {parsed.drivername!r} "
                "(use sqlite:///PATH or postgresql+psycopg://USER@HOST/NAME)"
            ) from error
        except ImportError as error:
            raise DatabaseURLError(
                f"database {public_url(url)}: the driver for {parsed.drivername!r} is not "
                f"installed ({error}); for PostgreSQL use postgresql+psycopg://"
            ) from error
        event.listen(self.engine, "connect", self._on_connect)
        event.listen(self.engine, "close", self._on_close)
        if self.dialect == "sqlite":
            event.listen(self.engine, "begin", _sqlite_begin)

    @classmethod
    def open(
        cls,
        url: str,
        *,
        connect_timeout: float = CONNECT_TIMEOUT_SECONDS,
        statement_timeout: float = STATEMENT_TIMEOUT_SECONDS,
        pool_timeout: float = POOL_TIMEOUT_SECONDS,
    ) -> Store:
        """A store that is reachable and migrated, or `DatabaseURLError` / `DatabaseUnavailable`
        with a one-line reason: the check every command makes before it does anything."""
        store = cls(
            url,
            connect_timeout=connect_timeout,
            statement_timeout=statement_timeout,
            pool_timeout=pool_timeout,
        )
        try:
            store.migrate()
        except DBAPIError as error:
            store.close()
            raise DatabaseUnavailable(
                f"database {public_url(url)} cannot be opened: {driver_reason(error)}"
            ) from error
        return store

    @property
    def public_url(self) -> str:
        return public_url(self.url)

    @property
    def in_memory(self) -> bool:
        return self.dialect == "sqlite" and self.sqlite_path is None

    # ------------------------------------------------------------------ connections
    def _on_connect(self, dbapi_connection: Any, _record: Any) -> None:
        with self._count_lock:
            self._connections_opened += 1
        if self.dialect == "sqlite":
            dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
            cursor = dbapi_connection.cursor()
            if self.sqlite_path is not None:
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cursor.close()

    def _on_close(self, _dbapi_connection: Any, _record: Any) -> None:
        with self._count_lock:
            self._connections_closed += 1

    @property
    def connections_opened(self) -> int:
        return self._connections_opened

    @property
    def open_connections(self) -> int:
        """Database connections opened and not yet closed (0 between operations)."""
        with self._count_lock:
            return self._connections_opened - self._connections_closed

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A connection for reading only; closed (not just returned) when the block ends.
        Writes go through `write()` (one transaction) or `transactions()` (several)."""
        with self.engine.connect() as connection:
            yield connection

    @contextmanager
    def transactions(self) -> Iterator[Connection]:
        """A connection for several write transactions, each opened by the caller with
        `connection.begin()` (ingest commits batch by batch); on SQLite each starts with
        `BEGIN IMMEDIATE`, as in `write()`."""
        with self.engine.connect() as connection:
            yield connection.execution_options(immediate=True)

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """One write transaction: committed when the block ends, rolled back on an exception."""
        with self.engine.connect() as connection:
            connection = connection.execution_options(immediate=True)
            with connection.begin():
                yield connection

    def close(self) -> None:
        """Close every pooled connection (the store stays usable; it reconnects on demand)."""
        self.engine.dispose()

    # ------------------------------------------------------------------ schema
    def migrate(self) -> list[int]:
        """Apply pending migrations; return the versions applied (empty when up to date)."""
        applied: list[int] = []
        with self.engine.connect() as connection:
            connection = connection.execution_options(immediate=True)
            with connection.begin():
                schema.schema_migrations.create(connection, checkfirst=True)
            for migration in migrations.MIGRATIONS:
                with connection.begin():
                    if self.dialect == "postgresql":
                        connection.execute(
                            text("SELECT pg_advisory_xact_lock(hashtext(current_schema() || :k))"),
                            {"k": "/migrate"},
                        )
                    if migration.version in migrations.applied_versions(connection):
                        continue
                    migration.apply(connection)
                    migrations.record(connection, migration)
                    applied.append(migration.version)
        return applied

    create = migrate

    def schema_version(self) -> int:
        with self.read() as connection:
            versions = migrations.applied_versions(connection)
        return max(versions, default=0)

    # ------------------------------------------------------------------ one scan at a time
    @contextmanager
    def scan_lock(self) -> Iterator[None]:
        """Held for a whole scan. Released by the OS or the database when a process dies, so a
        killed scan never blocks the next one. Raises ScanLockHeld when another holder has it."""
        if self.dialect == "postgresql":
            with self._pg_lock():
                yield
        elif self.sqlite_path is not None:
            lock = FileLock(f"{self.sqlite_path}.scan-lock", timeout=0, thread_local=False)
            try:
                lock.acquire()
            except Timeout as error:
                raise ScanLockHeld(str(self.sqlite_path)) from error
            try:
                yield
            finally:
                lock.release()
        else:
            if not self._memory_lock.acquire(blocking=False):
                raise ScanLockHeld("memory")
            try:
                yield
            finally:
                self._memory_lock.release()

    @contextmanager
    def _pg_lock(self) -> Iterator[None]:
        key = "hashtext(current_schema() || :k)"
        params = {"k": "/ops-scan"}
        with self.engine.connect() as connection:
            got = connection.execute(
                text(f"SELECT pg_try_advisory_lock({key})"), params
            ).scalar_one()
            connection.commit()
            if not got:
                raise ScanLockHeld("postgresql advisory lock")
            try:
                yield
            finally:
                connection.execute(text(f"SELECT pg_advisory_unlock({key})"), params)
                connection.commit()


def _postgres_timeouts(
    url: URL, connect_timeout: float, statement_timeout: float
) -> dict[str, Any]:
    """libpq parameters: the connect timeout (whole seconds, at least 1), keepalives, and the
    statement timeout as a startup option, ahead of the URL's own `options` so those win."""
    options = f"-c statement_timeout={max(1, round(statement_timeout * 1000))}"
    extra = url.query.get("options")
    if isinstance(extra, str) and extra:
        options = f"{options} {extra}"
    return {
        "connect_timeout": max(1, math.ceil(connect_timeout)),
        "options": options,
        **_KEEPALIVES,
    }


def _sqlite_begin(connection: Connection) -> None:
    immediate = connection.get_execution_options().get("immediate", False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
