"""Run locks that let several monitor replicas share one database without doubling a tick.

A replica runs a tick only while it holds the database's run lock: a PostgreSQL session advisory
lock, or on SQLite a file lock next to the database file. One lock per database rather than one
per tick, so replicas also never overlap each other's scans. The lock alone does not say whether
a tick already ran (a fast replica may have released it already); the scheduler checks the scan
history after acquiring it.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Protocol

from filelock import FileLock, Timeout
from sqlalchemy import Engine, text


class RunLock(Protocol):
    """Try to take the run lock without waiting; the context yields whether we hold it."""

    def hold(self) -> AbstractContextManager[bool]: ...


class ThreadRunLock:
    """For an in-memory database, which only one process can see anyway."""

    def __init__(self) -> None:
        self._lock = threading.Lock()

    @contextmanager
    def hold(self) -> Iterator[bool]:
        acquired = self._lock.acquire(blocking=False)
        try:
            yield acquired
        finally:
            if acquired:
                self._lock.release()


class FileRunLock:
    """An OS file lock (flock): the kernel drops it when the holder dies, so it never goes stale."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @contextmanager
    def hold(self) -> Iterator[bool]:
        # A fresh FileLock per attempt: each opens its own file description, so two schedulers in
        # one process exclude each other exactly as two processes do.
        lock = FileLock(str(self.path), thread_local=False)
        try:
            lock.acquire(timeout=0)
        except Timeout:
            yield False
            return
        try:
            yield True
        finally:
            lock.release()


class AdvisoryRunLock:
    """`pg_try_advisory_lock` on a dedicated connection; PostgreSQL drops it if the session dies."""

    def __init__(self, engine: Engine, namespace: str) -> None:
        self.engine = engine
        self.key = advisory_key(namespace)

    @contextmanager
    def hold(self) -> Iterator[bool]:
        with self.engine.connect() as connection:
            connection = connection.execution_options(isolation_level="AUTOCOMMIT")
            acquired = bool(
                connection.execute(
                    text("SELECT pg_try_advisory_lock(:key)"), {"key": self.key}
                ).scalar_one()
            )
            try:
                yield acquired
            finally:
                if acquired:
                    connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self.key})


def advisory_key(namespace: str) -> int:
    """A stable signed 64-bit key: advisory locks are keyed by bigint."""
    digest = hashlib.blake2b(f"ops-monitor scheduler {namespace}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def run_lock_for(engine: Engine, namespace: str | None = None) -> RunLock:
    """The lock that fits the database: advisory on PostgreSQL, a file beside a SQLite file.

    Advisory locks are per database, not per schema, so the default namespace includes the
    connection options (where a search path is set): monitors in different schemas stay apart.
    """
    url = engine.url
    if url.get_backend_name() == "postgresql":
        if namespace is None:
            namespace = f"{url.database}?{url.query.get('options', '')}"
        return AdvisoryRunLock(engine, namespace)
    database = url.database or ""
    if url.get_backend_name() == "sqlite" and database not in ("", ":memory:"):
        if database.startswith("file:"):  # URI form: sqlite:///file:path?mode=...&uri=true
            database = database.removeprefix("file:").split("?", 1)[0]
        path = Path(database)
        return FileRunLock(path.with_name(path.name + ".scheduler.lock"))
    return ThreadRunLock()
