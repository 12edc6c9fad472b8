"""`ops-monitor serve`: the HTTP API on uvicorn, with the scheduler running inside it.

The server refuses to listen beyond loopback without a token: the routes can start scans and
resolve issues, and an open port on a shared network should not let anyone do that.

The database is opened (and migrated) before uvicorn starts, so a bad URL or a server that is
down is one line and exit 2 rather than uvicorn's startup traceback. Everything it logs to stderr,
uvicorn's lines included, is one JSON object per line.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import replace
from typing import TYPE_CHECKING

import click

from ops_monitor.client import TOKEN_ENV
from ops_monitor.config import ConfigError, Settings

if TYPE_CHECKING:
    from fastapi import FastAPI

    from ops_monitor.api.broadcast_hub import Broadcaster
    from ops_monitor.api.deps import MonitorService

EXAMPLES = """\b
Examples:
  ops-monitor serve --db sqlite:///ops.db --port 8787
  OPS_MONITOR_TOKEN=$(openssl rand -hex 24) ops-monitor serve --host 0.0.0.0 --db postgresql+psycopg://ops@db/ops
  ops-monitor serve --token-env MONITOR_TOKEN --host ::
"""

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8787


def is_loopback(host: str) -> bool:
    """Whether `host` only accepts connections from this machine (names other than localhost
    are treated as exposed, since they may resolve to any interface)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


MIN_TOKEN_LENGTH = 16


def check_exposure(host: str, token: str | None, token_env: str) -> None:
    """Beyond loopback the token is the only lock: it must be set and long enough to resist
    guessing. A token of blanks is a mistake anywhere (no client could ever present it)."""
    if token is not None and token and not token.strip():
        raise click.UsageError(
            f"{token_env} is blank (only whitespace): set a real token or unset it"
        )
    if is_loopback(host):
        return
    if not token:
        raise click.UsageError(
            f"refusing to listen on {host} without a token: set {token_env} "
            f"(or use --host {DEFAULT_HOST})"
        )
    if len(token.strip()) < MIN_TOKEN_LENGTH:
        raise click.UsageError(
            f"refusing to listen on {host} with a {len(token.strip())}-character token: "
            f"{token_env} must be at least {MIN_TOKEN_LENGTH} characters "
            "(for example: python -c 'import secrets; print(secrets.token_urlsafe(32))')"
        )


def build_app(
    settings: Settings,
    service: MonitorService | None = None,
    broadcaster: Broadcaster | None = None,
) -> FastAPI:
    """The API with the scheduler's cron route and loop: everything `serve` runs. Without
    `service` the app opens the database itself when it starts."""
    from ops_monitor.api import cron, monitors, pings
    from ops_monitor.api.app import create_app
    from ops_monitor.console.routes import install as install_console
    from ops_monitor.scheduling.monitoring import monitors_lifespan
    from ops_monitor.scheduling.runtime import scheduler_lifespan

    app = create_app(
        settings,
        service,
        broadcaster=broadcaster,
        routers=[cron.router, monitors.router],
        public_routers=[pings.router],
        lifespans=[monitors_lifespan(settings), scheduler_lifespan(settings)],
    )
    install_console(app)  # the web console at /
    return app


def load_settings(
    db_url: str | None, host: str | None, port: int | None, token_env: str
) -> Settings:
    try:
        settings = Settings.load(also_read=[token_env])
        if db_url:
            settings = settings.merged({"db_url": db_url}, "command line", names={"db_url": "--db"})
    except ConfigError as error:
        raise click.UsageError(str(error)) from error
    token = os.environ.get(token_env) or settings.token
    return replace(
        settings,
        host=host or settings.host,
        port=settings.port if port is None else port,
        token=token or None,
    )


@click.command("serve", epilog=EXAMPLES)
@click.option("--db", "db_url", metavar="URL", help="Database URL (default: from configuration).")
@click.option("--host", help=f"Address to listen on (default: {DEFAULT_HOST}).")
@click.option(
    "--port", type=click.IntRange(0, 65535), help=f"Port to listen on (default: {DEFAULT_PORT})."
)
@click.option(
    "--token-env",
    default=TOKEN_ENV,
    show_default=True,
    metavar="NAME",
    help="Environment variable holding the bearer token the routes require.",
)
def serve(db_url: str | None, host: str | None, port: int | None, token_env: str) -> None:
    """Serve the ops routes (scan, issues, logs, broadcast, metrics, cron, cron monitors and
    their pings) and the web console at /, run the schedules and evaluate the cron monitors.

    Configuration comes from $OPS_MONITOR_CONFIG and OPS_MONITOR_* variables; options win.
    """
    settings = load_settings(db_url, host, port, token_env)
    check_exposure(settings.host, settings.token, token_env)

    import uvicorn

    from ops_monitor.api.broadcast_hub import Broadcaster
    from ops_monitor.api.connections import server_limits
    from ops_monitor.api.log_redaction import with_redaction
    from ops_monitor.commands.local import open_store
    from ops_monitor.scheduling.runtime import configure_logging, uvicorn_log_config
    from ops_monitor.service import OpsMonitorService

    configure_logging()
    store = open_store(settings, allow_memory=True)  # in memory: lives as long as we do
    try:
        broadcaster = Broadcaster()
        service = OpsMonitorService.from_settings(
            store, settings, on_scan_completed=broadcaster.publish
        )
        uvicorn.run(
            build_app(settings, service, broadcaster),
            host=settings.host,
            port=settings.port,
            log_level="info",
            log_config=with_redaction(uvicorn_log_config()),
            ws_ping_interval=20,
            **server_limits(settings.keep_alive_timeout_seconds, settings.max_connections),
        )
    finally:
        store.close()
