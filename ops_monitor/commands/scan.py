"""`ops-monitor scan`: run one scan now, on the local database or through a running monitor."""

from __future__ import annotations

import json
from typing import Any

import click

from ops_monitor.commands.local import (
    db_option,
    load_settings,
    open_service,
    resolve_remote,
    url_option,
)
from ops_monitor.models import ScanFilters, ScanInProgressError, ScanResult

EXAMPLES = """\b
Examples:
  ops-monitor scan --scope full
  ops-monitor scan --scope incremental --db postgresql+psycopg://ops@db/ops
  ops-monitor scan --url http://127.0.0.1:8787 --source api-worker --json
"""

EXIT_FAILED = 1
EXIT_BUSY = 4


def _summary(data: dict[str, Any]) -> str:
    line = (
        f"scan {data['id']} ({data['scope']}) {data['status']}: "
        f"{data['logs_processed']} logs processed, {data['issues_found']} issues found, "
        f"{data['issues_filed']} filed, {data['issues_reopened']} reopened, "
        f"{data.get('malformed_lines', 0)} malformed lines"
    )
    return line + (f"; error: {data['error']}" if data.get("error") else "")


@click.command("scan", epilog=EXAMPLES)
@click.option(
    "--scope",
    type=click.Choice(["full", "incremental"]),
    default="incremental",
    show_default=True,
    help="full: re-analyse the retention window; incremental: only what arrived since the "
    "last scan.",
)
@click.option(
    "--source", "sources", multiple=True, help="Only records from this source (repeatable)."
)
@click.option("--level", "levels", multiple=True, help="Only records at this level (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Print the scan record as JSON.")
@db_option
@url_option
def scan_command(
    scope: str,
    sources: tuple[str, ...],
    levels: tuple[str, ...],
    as_json: bool,
    db_url: str | None,
    remote_url: str | None,
) -> int:
    """Run a scan and print its result (exit 1 if it failed, 4 if another scan is running).

    A scan with --source/--level filters analyses only those records and leaves the incremental
    cursor where it was."""
    settings = load_settings(db_url)
    remote = resolve_remote(remote_url, settings)
    filters = ScanFilters(sources=list(sources) or None, levels=list(levels) or None)
    if remote:
        found = _remote_scan(remote, scope, filters)
        if found is None:
            return EXIT_BUSY
        data = found
    else:
        with open_service(settings) as service:
            try:
                result: ScanResult = service.run_scan(scope, filters, trigger="manual")
            except ScanInProgressError as busy:
                click.echo(f"ops-monitor: {busy}; try again when it has finished", err=True)
                return EXIT_BUSY
        data = result.model_dump(mode="json")
    click.echo(json.dumps(data, indent=2) if as_json else _summary(data))
    return 0 if data["status"] == "completed" else EXIT_FAILED


def _remote_scan(url: str, scope: str, filters: ScanFilters) -> dict[str, Any] | None:
    from dataclasses import asdict

    from ops_monitor.client import MonitorBusy, MonitorClientError, OpsMonitorClient

    body = filters.model_dump(mode="json", exclude_none=True)
    try:
        with OpsMonitorClient(url) as client:
            scan = client.scan(scope, body or None)
    except MonitorBusy as busy:
        click.echo(f"ops-monitor: {url}: {busy}; try again when it has finished", err=True)
        return None
    except MonitorClientError as error:
        raise click.ClickException(f"{url}: {error}") from error
    data = asdict(scan)
    for key in ("started_at", "finished_at"):
        data[key] = data[key].isoformat() if data[key] else None
    return data
