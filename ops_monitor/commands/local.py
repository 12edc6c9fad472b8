"""What the local commands share: settings with command-line overrides, and an open service.

A database that cannot be used is the user's to fix (a typo in the URL, a server that is down), so
it is one line naming the database (password masked) and the driver's reason, exit 2 like every
usage and configuration error, never an internal error with a traceback.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Iterator
from contextlib import contextmanager

import click
from sqlalchemy.exc import (
    ArgumentError,
    DatabaseError,
    DBAPIError,
    InterfaceError,
    OperationalError,
)

from ops_monitor.config import ConfigError, Settings
from ops_monitor.service import OpsMonitorService
from ops_monitor.store import Store
from ops_monitor.store.database import (
    DatabaseUnavailable,
    DatabaseURLError,
    driver_reason,
    is_memory_url,
    public_url,
)

URL_ENV = "OPS_MONITOR_URL"
EXIT_DATABASE = 2  # a bad database URL or an unreachable database: see DatabaseProblem

db_option = click.option(
    "--db",
    "db_url",
    metavar="URL",
    help="Database URL (default: $OPS_MONITOR_DB or ./ops-monitor.db).",
)
url_option = click.option(
    "--url",
    "remote_url",
    metavar="URL",
    help=f"Talk to a running monitor over HTTP instead of the database (or ${URL_ENV}).",
)


class DatabaseProblem(click.ClickException):
    """The database cannot be used: a bad URL, a missing directory, a file that is not a
    database, a server that is down. Exit 2: it is for the user to fix, not a bug of ours."""

    exit_code = EXIT_DATABASE


def load_settings(db_url: str | None = None, *, also_read: Collection[str] = ()) -> Settings:
    """The effective settings; a bad value is a usage error naming the field and its origin.
    `--db` is checked like `OPS_MONITOR_DB`; `also_read` names variables the command reads
    itself (`--token-env`), which are then no unknown settings."""
    try:
        settings = Settings.load(also_read=also_read)
        if db_url is not None:
            settings = settings.merged({"db_url": db_url}, "command line", names={"db_url": "--db"})
        return settings
    except ConfigError as error:
        raise click.UsageError(str(error)) from error


def resolve_remote(explicit: str | None, settings: Settings) -> str | None:
    return explicit or os.environ.get(URL_ENV) or settings.url


def refuse_memory(settings: Settings) -> None:
    """An in-memory database vanishes when the command exits: ingesting into it, or asking it
    for issues or cron health, would report work that nobody can ever see."""
    try:
        memory = is_memory_url(settings.db_url)
    except ArgumentError:
        return  # not a URL at all: opening it says so
    if memory:
        context = click.get_current_context(silent=True)
        command = context.command_path if context is not None else "this command"
        raise DatabaseProblem(
            f"database {public_url(settings.db_url)} is in memory and would vanish when "
            f"`{command}` exits: give a file (sqlite:///PATH) or a PostgreSQL URL"
        )


def open_store(settings: Settings, *, allow_memory: bool = False) -> Store:
    """The configured database, reachable and migrated, or a one-line `DatabaseProblem`."""
    if not allow_memory:
        refuse_memory(settings)
    try:
        return Store.open(
            settings.db_url,
            connect_timeout=settings.db_connect_timeout_seconds,
            statement_timeout=settings.db_statement_timeout_seconds,
            pool_timeout=settings.db_pool_timeout_seconds,
        )
    except (DatabaseURLError, DatabaseUnavailable) as error:
        raise DatabaseProblem(str(error)) from error


def is_outage(error: BaseException) -> bool:
    """Whether a database error says the database went away (connection lost, file unreadable),
    rather than that our SQL is wrong: the former is an operator's problem, the latter a bug."""
    return isinstance(error, OperationalError | InterfaceError) or type(error) is DatabaseError


@contextmanager
def open_service(settings: Settings) -> Iterator[OpsMonitorService]:
    """The configured database, migrated, with a service on it; connections closed after. The
    database going away meanwhile is a one-line `DatabaseProblem` too."""
    store = open_store(settings)
    try:
        yield OpsMonitorService.from_settings(store, settings)
    except DBAPIError as error:
        if not is_outage(error):
            raise
        raise DatabaseProblem(
            f"database {store.public_url} became unavailable: {driver_reason(error)}"
        ) from error
    finally:
        store.close()
