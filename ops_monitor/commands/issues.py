"""`ops-monitor issues` and `ops-monitor resolve`: the open issues, and closing one."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from ops_monitor.commands.local import (
    db_option,
    load_settings,
    open_service,
    resolve_remote,
    url_option,
)
from ops_monitor.models import IssueCategory, IssueNotFoundError, IssueSeverity, IssueStatus

EXAMPLES = """\b
Examples:
  ops-monitor issues
  ops-monitor issues --severity critical --json
  ops-monitor issues --status resolved --url http://127.0.0.1:8787
"""
RESOLVE_EXAMPLES = """\b
Examples:
  ops-monitor resolve 12 "fixed by deploy 2024-06-01"
"""


def _remote_error(url: str, error: Exception) -> click.ClickException:
    return click.ClickException(f"{url}: {error}")


def _jsonable(item: Any) -> dict[str, Any]:
    data = asdict(item)
    for key, value in data.items():
        if hasattr(value, "isoformat"):
            data[key] = value.isoformat()
        elif isinstance(value, tuple):
            data[key] = list(value)
    return data


@click.command("issues", epilog=EXAMPLES)
@click.option(
    "--status",
    type=click.Choice([s.value for s in IssueStatus]),
    help="Only this status (default: all open ones).",
)
@click.option("--severity", type=click.Choice([s.value for s in IssueSeverity]))
@click.option("--category", type=click.Choice([c.value for c in IssueCategory]))
@click.option("--source", help="Only issues from this source.")
@click.option("--limit", type=click.IntRange(1, 1000), default=50, show_default=True)
@click.option("--offset", type=click.IntRange(0), default=0, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON array of issues.")
@db_option
@url_option
def issues_command(
    status: str | None,
    severity: str | None,
    category: str | None,
    source: str | None,
    limit: int,
    offset: int,
    as_json: bool,
    db_url: str | None,
    remote_url: str | None,
) -> None:
    """List open issues, most severe and most recent first."""
    settings = load_settings(db_url)
    remote = resolve_remote(remote_url, settings)
    filters: dict[str, Any] = {
        "status": status,
        "severity": severity,
        "category": category,
        "source": source,
    }
    if remote:
        from ops_monitor.client import MonitorClientError, OpsMonitorClient

        try:
            with OpsMonitorClient(remote) as client:
                rows = [_jsonable(i) for i in client.open_issues(limit, offset, **filters)]
        except MonitorClientError as error:
            raise _remote_error(remote, error) from error
    else:
        with open_service(settings) as service:
            found = service.open_issues(limit, offset, **filters)
        rows = [issue.model_dump(mode="json") for issue in found]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo("no issues")
        return
    table = Table("id", "severity", "status", "category", "source", "count", "last seen", "title")
    for row in rows:
        table.add_row(
            str(row["id"]),
            row["severity"],
            row["status"],
            row["category"],
            row["source"],
            str(row["occurrences"]),
            str(row["last_seen"])[:19],
            row["title"],
        )
    console = Console()
    if not console.is_terminal:
        console = Console(width=200)
    console.print(table)


def _check_resolution(resolution: str) -> None:
    """The API's own rule (`ResolveRequest`), with its message: the CLI resolving locally must
    refuse what `POST /api/ops/issues/{id}/resolve` refuses, an empty resolution above all."""
    from pydantic import ValidationError

    from ops_monitor.api.issues import ResolveRequest

    try:
        ResolveRequest(resolution=resolution)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise click.UsageError(f"{where}: {first['msg']}") from None


@click.command("resolve", epilog=RESOLVE_EXAMPLES)
@click.argument("issue_id", type=int)
@click.argument("resolution")
@db_option
@url_option
def resolve_command(
    issue_id: int, resolution: str, db_url: str | None, remote_url: str | None
) -> None:
    """Mark an issue resolved; it reopens as regressed if the problem recurs."""
    _check_resolution(resolution)
    settings = load_settings(db_url)
    remote = resolve_remote(remote_url, settings)
    if remote:
        from ops_monitor.client import MonitorClientError, OpsMonitorClient

        try:
            with OpsMonitorClient(remote) as client:
                title = client.resolve_issue(issue_id, resolution).title
        except MonitorClientError as error:
            raise _remote_error(remote, error) from error
    else:
        with open_service(settings) as service:
            try:
                title = service.resolve_issue(issue_id, resolution).title
            except IssueNotFoundError as error:
                raise click.BadParameter(str(error), param_hint="ISSUE_ID") from error
    click.echo(f"resolved issue {issue_id}: {title}")
