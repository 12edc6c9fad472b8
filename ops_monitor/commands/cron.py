"""`ops-monitor cron status`: is every schedule running on time? A dead man's switch for people.

Reads the scan history straight from the database (so it answers even when the monitor process is
down, which is exactly when it matters), or asks a running monitor with `--url`. Exit status 1
when a schedule is late, so it can itself be run from a health check; 2 when the database cannot
be used (a bad URL, a server that is down), like any usage or configuration error.

What "late" and "success" mean is defined in `ops_monitor/scheduling/status.py` and
`scheduling/history.py`; the table ends with the same rule in one sentence.
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


def _state(row: Mapping[str, Any]) -> str:
    """on time, late or never ran; a monitor older than the `state` field gives only `late`."""
    state = row.get("state")
    if isinstance(state, str):
        return state
    if row.get("late"):
        return "late"
    return "never ran" if row.get("last_run") is None else "on time"


def _success(row: Mapping[str, Any]) -> str:
    """When the success that counts for the schedule finished, and what started it when that
    was not the schedule itself (a manual full scan counts for every schedule)."""
    when = _when(row.get("last_success"))
    trigger = row.get("last_success_trigger")
    return f"{when} ({trigger})" if trigger and trigger != row.get("name") else when


def _next(row: Mapping[str, Any]) -> str:
    when = _when(row.get("next_run"))
    return when if row.get("next_run") else "-"


def render(status: Mapping[str, Any], console: Console) -> None:
    table = Table(title="ops-monitor schedules (UTC)")
    columns = ("Schedule", "Cron", "Scope", "Next run", "Last run", "Outcome", "Last success")
    for column in (*columns, "Late"):
        table.add_column(column)
    for row in status.get("schedules", []):
        state = _state(row)
        outcome = row.get("last_outcome") or "-"
        table.add_row(
            str(row.get("name")),
            str(row.get("expression")),
            str(row.get("scope")),
            _next(row),
            _when(row.get("last_run")),
            f"[red]{outcome}[/]" if outcome == "failed" else outcome,
            _success(row),
            {"late": "[bold red]LATE[/]", "never ran": "[yellow]never ran[/]"}.get(
                state, "[green]on time[/]"
            ),
        )
    console.print(table)
    from ops_monitor.scheduling.status import LATE_RULE

    grace = status.get("grace_seconds")
    within = f" ({int(grace) / 3600:g} h)" if isinstance(grace, int | float) else ""
    console.print(
        f"{LATE_RULE.replace('the grace', 'the grace' + within)}.", highlight=False, soft_wrap=True
    )


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

    A schedule is late when a tick of it was due after its last success (or after a scheduler
    running it started, if later) and no success followed within a grace (`cron_grace_hours`,
    one by default). A completed full scan counts as a success for every schedule, manual ones
    included; an incremental scan for incremental schedules. A schedule that never succeeded and
    that no scheduler ever started is shown as "never ran", not late. The next run is the next
    tick at which the schedule really runs (a full scan takes a minute both want). Exit 2 when
    the database cannot be used.
    """
    if remote_url and db_url:
        raise click.UsageError("give --db or --url, not both")
    settings = load_settings(db_url, also_read=[token_env])
    url = None if db_url else resolve_remote(remote_url, settings)
    data = _remote_status(url, token_env) if url else _local_status(settings)
    if as_json:
        click.echo(json.dumps(data, indent=2))
    else:
        # Off a terminal, rich would wrap at 80 columns; a log or a pipe reads better unwrapped.
        render(data, Console(width=None if sys.stdout.isatty() else 160))
    return 1 if data.get("late") else 0
