"""Whether the database answers, known quickly and without waiting on it.

A stalled database does not fail, it hangs, and a request waiting on it ties up a worker thread.
So the question "does it answer?" is asked by a probe with its own thread and a deadline
(`/healthz` answers within a second either way), asked again whenever a request takes longer
than a few seconds, and remembered: while the database is known to be down, requests that need
it get 503 with `Retry-After` at once instead of joining the queue. After `retry_after` seconds
requests try it again, and the first success, or a probe that answers, clears the mark.
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import cast

from sqlalchemy.exc import DatabaseError, DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.requests import HTTPConnection

from ops_monitor.store import schema
from ops_monitor.store.database import DatabaseUnavailable, driver_reason

RETRY_AFTER_SECONDS = 5
PROBE_DEADLINE_SECONDS = 0.8  # /healthz answers within 1 s, whatever the database does
SLOW_REQUEST_SECONDS = 3.0  # a request waiting this long on the database triggers a probe

_UNDEFINED_TABLE = "42P01"  # PostgreSQL; SQLite says "no such table: <name>"
# SQLSTATE classes: connection exception, insufficient resources, operator intervention (a
# statement timeout, a server shutting down), lock not available.
_OUTAGE_CLASSES = frozenset({"08", "53", "57", "55"})
# SQLite reports our own mistakes as "operational" errors too; these are not outages.
_SQLITE_BUGS = ("no such table", "no such column", "syntax error")
_NO_SCHEMA = "3F000"
# Shutting down, crashed, starting up, too many connections: nobody gets an answer now.
_CANNOT_SERVE = frozenset(
    {"57P01", "57P02", "57P03", "53300"}
)  # invalid_schema_name: the search path names a schema that is gone


class DatabaseDown(Exception):
    """The database is known not to answer; answered with 503 and `Retry-After`."""

    def __init__(self, reason: str, retry_after: int = RETRY_AFTER_SECONDS) -> None:
        super().__init__(f"database unavailable: {reason}")
        self.retry_after = retry_after


def is_missing_schema(error: BaseException) -> bool:
    """One of our tables is gone (the database or its schema was dropped, or recreated empty),
    as opposed to a query naming a table that never was ours."""
    if not isinstance(error, DBAPIError):
        return False
    state = getattr(error.orig, "sqlstate", None)
    if state == _NO_SCHEMA:
        return True
    if state != _UNDEFINED_TABLE and "no such table" not in str(error.orig):
        return False
    words = set(re.findall(r"\w+", str(error.orig)))
    return not words.isdisjoint(schema.metadata.tables)


def outage_reason(error: BaseException) -> str | None:
    """Why the database cannot serve (refused, lost, timed out, pool exhausted), or None when the
    error is not an outage (then it is a bug of ours, answered with 500)."""
    if isinstance(error, PoolTimeout):
        return "no database connection became free in time (the database is slow or stalled)"
    if isinstance(error, DatabaseUnavailable):
        return str(error)
    if not isinstance(error, DBAPIError):
        return None
    state = getattr(error.orig, "sqlstate", None)
    if state:  # PostgreSQL says what kind of error it is
        return driver_reason(error) if state[:2] in _OUTAGE_CLASSES else None
    if isinstance(error, OperationalError | InterfaceError) or type(error) is DatabaseError:
        text = str(error.orig)
        return None if any(bug in text for bug in _SQLITE_BUGS) else driver_reason(error)
    return None


def is_connection_failure(error: BaseException) -> bool:
    """The database cannot be reached at all (as opposed to one slow or blocked statement):
    worth failing the next requests fast. SQLite files are always "reachable"."""
    if isinstance(error, DatabaseUnavailable):
        return True
    if not isinstance(error, DBAPIError) or not hasattr(error.orig, "sqlstate"):
        return False
    state = getattr(error.orig, "sqlstate", None)
    return state is None or state[:2] == "08" or state in _CANNOT_SERVE


class DatabaseHealth:
    """The last known state of the database, shared by the probe, the routes and error handling."""

    def __init__(
        self,
        *,
        retry_after: int = RETRY_AFTER_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.retry_after = retry_after
        self._clock = clock
        self._lock = threading.Lock()
        self.reason: str | None = None
        self._down_at = 0.0

    def mark_down(self, reason: str) -> None:
        with self._lock:
            self.reason, self._down_at = reason, self._clock()

    def mark_up(self) -> None:
        with self._lock:
            self.reason = None

    def raise_if_down(self) -> None:
        """503 at once while the database was found down less than `retry_after` s ago."""
        with self._lock:
            reason, since = self.reason, self._clock() - self._down_at
        if reason is not None and since < self.retry_after:
            raise DatabaseDown(reason, max(1, round(self.retry_after - since)))


@dataclass(frozen=True)
class ProbeResult:
    answered: bool
    running_scan_id: int | None = None
    reason: str | None = None  # why not, when it did not answer


class DatabaseProbe:
    """Asks the service something cheap on a thread of its own, with a deadline; one question at
    a time (a probe stuck on a stalled database is awaited again, never duplicated)."""

    def __init__(
        self,
        question: Callable[[], int | None],
        health: DatabaseHealth,
        *,
        deadline: float = PROBE_DEADLINE_SECONDS,
    ) -> None:
        self.question = question
        self.health = health
        self.deadline = deadline
        self._executor: ThreadPoolExecutor | None = None  # made on first use, again after close
        self._pending: asyncio.Future[int | None] | None = None
        self._background: set[asyncio.Task[ProbeResult]] = set()

    async def check(self) -> ProbeResult:
        """Whether the database answered within the deadline; an outage marks the shared
        health down, an answer marks it up."""
        if self._pending is None or self._pending.done():
            if self._executor is None:
                self._executor = ThreadPoolExecutor(1, thread_name_prefix="ops-monitor-db-probe")
            loop = asyncio.get_running_loop()
            self._pending = loop.run_in_executor(self._executor, self.question)
        try:
            running = await asyncio.wait_for(asyncio.shield(self._pending), self.deadline)
        except TimeoutError:
            reason = f"the database did not answer within {self.deadline:g} s"
            self.health.mark_down(reason)
            return ProbeResult(False, reason=reason)
        except Exception as error:
            outage = outage_reason(error)
            if outage is not None:
                self.health.mark_down(outage)
            return ProbeResult(False, reason=outage or driver_reason(error))
        self.health.mark_up()
        return ProbeResult(True, running)

    def check_soon(self) -> None:
        """Probe in the background (from a request that is taking long)."""
        task = asyncio.get_running_loop().create_task(self.check())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def close(self) -> None:
        """Let go of the probe's thread (one stuck on a stalled database is left to finish)."""
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor, self._pending = None, None


def get_health(connection: HTTPConnection) -> DatabaseHealth:
    return cast(DatabaseHealth, connection.app.state.database_health)


def get_probe(connection: HTTPConnection) -> DatabaseProbe:
    return cast(DatabaseProbe, connection.app.state.database_probe)


async def needs_database(connection: HTTPConnection) -> AsyncIterator[None]:
    """Router dependency of every route that uses the database: 503 at once while it is known to
    be down; a request still waiting after `SLOW_REQUEST_SECONDS` has the probe ask whether the
    database answers at all (so that the next requests know), and a success clears the mark."""
    health = get_health(connection)
    health.raise_if_down()
    timer = asyncio.get_running_loop().call_later(
        SLOW_REQUEST_SECONDS, get_probe(connection).check_soon
    )
    try:
        yield
    finally:
        timer.cancel()
    health.mark_up()
