"""What the local commands share: settings with command-line overrides, and an open service."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

import click

from ops_monitor.config import ConfigError, Settings
from ops_monitor.service import OpsMonitorService
from ops_monitor.store import Store

URL_ENV = "OPS_MONITOR_URL"

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


def load_settings(db_url: str | None = None) -> Settings:
    """The effective settings; a bad value is a usage error naming the field and its origin."""
    try:
        settings = Settings.load()
    except ConfigError as error:
        raise click.UsageError(str(error)) from error
    return replace(settings, db_url=db_url) if db_url else settings


def resolve_remote(explicit: str | None, settings: Settings) -> str | None:
    return explicit or os.environ.get(URL_ENV) or settings.url


@contextmanager
def open_service(settings: Settings) -> Iterator[OpsMonitorService]:
    """The configured database, migrated, with a service on it; connections closed after."""
    store = Store(settings.db_url)
    try:
        store.migrate()
        yield OpsMonitorService.from_settings(store, settings)
    finally:
        store.close()
