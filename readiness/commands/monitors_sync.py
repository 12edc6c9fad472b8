"""`readiness monitors sync [PATH]`: one cron monitor per (worker, cron) of the Wrangler configs.

The triggers are read as the `cron-handler` rule reads them; the monitors are declared through
`OpsMonitorClient` (a PUT: running it again changes nothing but a changed schedule). A new
monitor's ping key is printed once, as the `CRON_PING_KEYS` secret its Worker needs; an existing
monitor's key is shown by `ops-monitor monitors show SLUG`. Exit 1 when a trigger cannot be
monitored (an invalid cron, named by file and line) or the monitor fails; 2 on a usage error.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from pathlib import Path

import click

from readiness.commands.monitors import MONITORS_EXAMPLES

URL_ENV = "OPS_MONITOR_URL"


@click.command("sync", epilog=MONITORS_EXAMPLES)
@click.argument(
    "path",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=Path(),
    required=False,
)
@click.option("--url", metavar="URL", help=f"The running ops monitor (default: ${URL_ENV}).")
@click.option(
    "--token-env",
    default="OPS_MONITOR_TOKEN",
    show_default=True,
    metavar="NAME",
    help="Environment variable holding the monitor's bearer token.",
)
def monitors_sync(path: Path, url: str | None, token_env: str) -> int:
    """Declare a cron monitor for every cron trigger under PATH (default: here)."""
    from ops_monitor.client import MonitorClientError, OpsMonitorClient
    from readiness.cron_monitors import sync, triggers

    target = url or os.environ.get(URL_ENV)
    if not target:
        raise click.UsageError(f"give --url or set {URL_ENV} to the running ops monitor")
    found = triggers(path)
    if not found:
        click.echo(f"no cron triggers in the Wrangler configs under {path}")
        return 0
    try:
        with OpsMonitorClient(target, token=os.environ.get(token_env) or None) as client:
            synced = sync(found, client)
    except MonitorClientError as error:
        raise click.ClickException(f"{target}: {error}") from None
    keys: dict[str, dict[str, str]] = defaultdict(dict)
    invalid = 0
    worker = None
    for item in synced:
        trigger = item.trigger
        if trigger.worker != worker:
            worker = trigger.worker
            click.echo(f"{worker} ({trigger.config_path})")
        if item.slug is None:
            invalid += 1
            click.echo(f"  {trigger.cron:<16} not monitored: invalid cron expression")
            click.echo(
                f"readiness: error: {trigger.config_path}:{trigger.line}: invalid cron "
                f"expression '{trigger.cron}' ({trigger.problem}): it cannot be monitored",
                err=True,
            )
            continue
        if item.created and item.ping_key:
            keys[trigger.worker][trigger.cron] = item.ping_key
        state = "created" if item.created else "exists"
        click.echo(f"  {trigger.cron:<16} {item.slug}  {state}")
    if keys:
        click.echo("")
        click.echo(
            "Ping keys of the new monitors (shown once): store each line as the Worker's secret"
        )
        click.echo("CRON_PING_KEYS (`wrangler secret put CRON_PING_KEYS`).")
        for name, by_cron in keys.items():
            click.echo(f"  {name}: {json.dumps(by_cron)}")
    return 1 if invalid else 0
