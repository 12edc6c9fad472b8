"""`ops-monitor issues show ID`: one issue in full, and `ops-monitor issues` as a group.

`ops-monitor issues [options]` still lists issues exactly as before; `show` is its one
subcommand: the issue's template and fingerprint, its state history, an occurrence chart drawn
in the terminal, and its latest records with full messages and attributes.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import click
from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from ops_monitor.commands.issues import issues_command
from ops_monitor.commands.local import db_option, load_settings, resolve_remote, url_option
from ops_monitor.models import IssueNotFoundError
from ops_monitor.views.issue_history import IssueDetail, TimelineBucket

SHOW_EXAMPLES = """\b
Examples:
  ops-monitor issues show 12
  ops-monitor issues show 12 --json
  ops-monitor issues show 12 --url http://127.0.0.1:8787
"""
BARS = " ▁▂▃▄▅▆▇█"
CHART_ROWS = 6


@click.group(
    "issues",
    invoke_without_command=True,
    epilog=issues_command.epilog,
    params=list(issues_command.params),
    help=issues_command.help,
)
@click.pass_context
def issues_group(ctx: click.Context, /, **options: Any) -> None:
    if ctx.invoked_subcommand is None:
        ctx.invoke(issues_command, **options)


def chart_lines(timeline: list[TimelineBucket], rows: int = CHART_ROWS) -> list[str]:
    """A bar chart of the buckets, `rows` lines high, one column per bucket (eighths blocks)."""
    peak = max((b.count for b in timeline), default=0)
    if peak == 0:
        return ["(no occurrences in this window)"]
    lines = []
    for row in range(rows, 0, -1):
        cells = []
        for bucket in timeline:
            height = bucket.count / peak * rows
            filled = height - (row - 1)
            cells.append(BARS[8] if filled >= 1 else BARS[max(0, round(filled * 8))])
        lines.append("".join(cell * 2 for cell in cells))
    return lines


def _when(moment: datetime | None) -> str:
    return "-" if moment is None else moment.isoformat(timespec="seconds")


def render_detail(detail: IssueDetail, console: Console) -> None:
    issue = detail.issue
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold")
    facts.add_column()
    for name, value in (
        ("status", issue.status.value + (" (ignored)" if detail.ignored else "")),
        ("severity", issue.severity.value),
        ("category", issue.category.value),
        ("rule", detail.rule),
        ("source", issue.source),
        ("occurrences", str(issue.occurrences)),
        ("first seen", _when(issue.first_seen)),
        ("last seen", _when(issue.last_seen)),
        ("template", issue.template),
        ("fingerprint", issue.fingerprint),
    ):
        facts.add_row(name, Text(value))
    if issue.resolution:
        facts.add_row("resolution", Text(issue.resolution))
    console.print(Panel(facts, title=Text(f"#{issue.id} {issue.title}"), title_align="left"))
    if detail.timeline:
        first, last = detail.timeline[0], detail.timeline[-1]
        chart = Text("\n".join(chart_lines(detail.timeline)), style="red")
        axis = Text(
            f"{_when(first.start)} … {_when(last.start)}  "
            f"(peak {max(b.count for b in detail.timeline)} per bucket)",
            style="dim",
        )
        console.print(Panel(Group(chart, axis), title="occurrences", title_align="left"))
    history = Table("when", "event", "occurrences", "detail", title="history", title_justify="left")
    for event in detail.history:
        history.add_row(_when(event.at), event.kind.value, str(event.occurrences), event.detail)
    if detail.history:
        console.print(history)
    console.print(Text("latest records", style="bold"))
    for record in detail.sample_records:
        console.print(
            Text(f"{_when(record.timestamp)} {record.source} {record.level}", style="dim")
        )
        console.print(Text(record.message), soft_wrap=True)
        if record.attributes:
            console.print(Text(json.dumps(record.attributes, default=str)), style="dim")
    if not detail.sample_records:
        for sample in issue.samples:
            console.print(Text(sample), soft_wrap=True)


@issues_group.command("show", epilog=SHOW_EXAMPLES)
@click.argument("issue_id", type=click.IntRange(1))
@click.option("--json", "as_json", is_flag=True, help="The issue detail as one JSON object.")
@db_option
@url_option
def show_command(issue_id: int, as_json: bool, db_url: str | None, remote_url: str | None) -> None:
    """One issue: template, fingerprint, history, occurrence chart, latest records."""
    settings = load_settings(db_url)
    remote = resolve_remote(remote_url, settings)
    if remote:
        from ops_monitor.client import MonitorClientError, OpsMonitorClient

        try:
            with OpsMonitorClient(remote) as client:
                detail = IssueDetail.model_validate(client.issue_detail(issue_id))
        except MonitorClientError as error:
            raise click.ClickException(f"{remote}: {error}") from error
    else:
        from ops_monitor.commands.local import open_store
        from ops_monitor.oncall.service import OnCallService

        store = open_store(settings)
        try:
            detail = OnCallService(store, slow_request_ms=settings.slow_request_ms).issue_detail(
                issue_id
            )
        except IssueNotFoundError as error:
            raise click.BadParameter(str(error), param_hint="ISSUE_ID") from error
        finally:
            store.close()
    if as_json:
        click.echo(detail.model_dump_json(indent=2))
        return
    console = Console(highlight=False)
    if not console.is_terminal:
        console = Console(width=120, highlight=False)
    render_detail(detail, console)
