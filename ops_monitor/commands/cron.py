"""`ops-monitor cron status`: is every schedule running on time? A dead man's switch for people.

Reads the scan history straight from the database (so it answers even when the monitor process is
down, which is exactly when it matters), or asks a running monitor with `--url`. Exit status 1
when a schedule is late, so it can itself be run from a health check.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from ops_monitor.commands.local import db_option, load_settings, resolve_remote, url_option
from ops_monitor.config import Settings

EXAMPLES = """\b
Examples:
  ops-monitor cron status
  ops-monitor cron status --db sqlite:///ops.db --json
  ops-monitor cron status --url http://127.0.0.1:8787
  ops-monitor cron status || page-the-on-call "ops monitor cron is late"
"""


@click.group("cron", epilog=EXAMPLES)
def cron() -> None:
    """Cron health: each schedule's next run, last run and outcome, and whether it is late."""


def _local_status(settings: Settings) -> dict[str, Any]:
    from ops_monitor.commands.local import open_service
    from ops_monitor.scheduling.runtime import late_grace, schedules_from
    from ops_monitor.scheduling.status import CronView

    view = CronView(schedules_from(settings), late_grace(settings))
    with open_service(settings) as service:
        return view.status(service).model_dump(mode="json")


def _remote_status(url: str, token_env: str) -> dict[str, Any]:
    from ops_monitor.client import MonitorError, MonitorUnavailable, OpsMonitorClient

    try:
        with OpsMonitorClient(url, token=os.environ.get(token_env) or None) as client:
            schedules = client.cron_status()
    except (MonitorUnavailable, MonitorError) as error:
        raise click.ClickException(f"{url}: {error}") from None
    rows = [dict(schedule.raw) for schedule in schedules]
    return {"late": any(schedule.late for schedule in schedules), "schedules": rows}


def _when(value: object) -> str:
    if not isinstance(value, str) or not value:
        return "never"
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def render(status: Mapping[str, Any], console: Console) -> None:
    table = Table(title="ops-monitor schedules (UTC)")
    for column in ("Schedule", "Cron", "Scope", "Next run", "Last run", "Outcome", "Late"):
        table.add_column(column)
    for row in status.get("schedules", []):
        late = bool(row.get("late"))
        outcome = row.get("last_outcome") or "-"
        table.add_row(
            str(row.get("name")),
            str(row.get("expression")),
            str(row.get("scope")),
            _when(row.get("next_run")),
            _when(row.get("last_run")),
            f"[red]{outcome}[/]" if outcome == "failed" else outcome,
            "[bold red]LATE[/]" if late else "[green]on time[/]",
        )
    console.print(table)


@cron.command("status", epilog=EXAMPLES)
@db_option
@url_option
@click.option(
    "--token-env",
    default="OPS_MONITOR_TOKEN",
    show_default=True,
    metavar="NAME",
    help="Environment variable holding the monitor's bearer token (with --url).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the same JSON as GET /api/ops/cron.")
def status(db_url: str | None, remote_url: str | None, token_env: str, as_json: bool) -> int:
    """Show each schedule's next and last run; exit 1 when any schedule is late.

    A schedule is late when its last successful run is older than its period plus a grace
    (`cron_grace_hours`, one by default), or when it has never succeeded.
    """
    if remote_url and db_url:
        raise click.UsageError("give --db or --url, not both")
    settings = load_settings(db_url)
    url = None if db_url else resolve_remote(remote_url, settings)
    data = _remote_status(url, token_env) if url else _local_status(settings)
    if as_json:
        click.echo(json.dumps(data, indent=2))
    else:
        # Off a terminal, rich would wrap at 80 columns; a log or a pipe reads better unwrapped.
        render(data, Console(width=None if sys.stdout.isatty() else 160))
    return 1 if data.get("late") else 0
