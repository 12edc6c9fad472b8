"""`ops-monitor logs`: search stored records, and follow new ones as they arrive (`--follow`).

Printed oldest first (a terminal reads downwards, as `tail` does); a search shows the newest
`--limit` records that match.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

import click
from rich.console import Console
from rich.text import Text

from ops_monitor.commands.local import db_option, load_settings, resolve_remote, url_option
from ops_monitor.views.log_page import LogEntry
from ops_monitor.views.log_query import MAX_LIMIT, LogQuery, QueryError

EXAMPLES = """\b
Examples:
  ops-monitor logs --source checkout --level error --since 2h
  ops-monitor logs --grep "timeout" --limit 20 --json
  ops-monitor logs --source checkout --follow
"""
POLL_SECONDS = 1.0
_LEVEL_STYLES = {
    "debug": "dim",
    "info": "cyan",
    "warning": "yellow",
    "warn": "yellow",
    "error": "bold red",
    "critical": "bold white on red",
    "fatal": "bold white on red",
}


def render(entry: LogEntry, console: Console, as_json: bool) -> None:
    if as_json:
        click.echo(entry.model_dump_json())
        return
    line = Text()
    line.append(entry.timestamp.isoformat(timespec="milliseconds"), style="dim")
    line.append(f" {entry.source} ")
    line.append(entry.level, style=_LEVEL_STYLES.get(entry.level, ""))
    line.append(f": {entry.message}")
    if entry.attributes:
        line.append(" " + json.dumps(entry.attributes, default=str), style="dim")
    console.print(line, soft_wrap=True, highlight=False)


@click.command("logs", epilog=EXAMPLES)
@click.option("--source", help="Only these sources (comma-separated).")
@click.option("--level", help="Only these levels (comma-separated), e.g. error,critical.")
@click.option("--since", help="From this time: ISO 8601, or a span before now (15m, 2h, 7d).")
@click.option("--until", help="Up to this time: ISO 8601, or a span before now.")
@click.option("--grep", "text", help="Only messages containing this text (case-insensitive).")
@click.option("--limit", type=click.IntRange(1, MAX_LIMIT), default=100, show_default=True)
@click.option("--follow", "-f", is_flag=True, help="Keep printing new records as they arrive.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@db_option
@url_option
def logs_command(
    source: str | None,
    level: str | None,
    since: str | None,
    until: str | None,
    text: str | None,
    limit: int,
    follow: bool,
    as_json: bool,
    db_url: str | None,
    remote_url: str | None,
) -> None:
    """Search the stored log records, newest matching last; --follow tails new ones."""
    params = {"q": text, "source": source, "level": level, "since": since, "until": until}
    try:
        query = LogQuery.parse(
            q=text, source=source, level=level, since=since, until=until, limit=limit
        )
    except QueryError as error:
        raise click.UsageError(str(error)) from error
    console = Console(highlight=False)
    settings = load_settings(db_url)
    remote = resolve_remote(remote_url, settings)
    if remote:
        _remote(remote, params, limit, follow, lambda e: render(e, console, as_json))
        return
    from ops_monitor.commands.local import open_store
    from ops_monitor.oncall.service import OnCallService

    store = open_store(settings)
    try:
        oncall = OnCallService(store)
        last_id = oncall.last_log_id()
        page = oncall.search_logs(query)
        _print(reversed(page.records), lambda e: render(e, console, as_json))
        if not follow:
            return
        tail = LogQuery(
            text=query.text, sources=query.sources, levels=query.levels, limit=MAX_LIMIT
        )
        while True:
            fresh = oncall.tail_logs(last_id, tail)
            _print(fresh, lambda e: render(e, console, as_json))
            if fresh:
                last_id = fresh[-1].id
            else:
                time.sleep(POLL_SECONDS)
    except KeyboardInterrupt:
        return
    finally:
        store.close()


def _print(entries: Iterable[LogEntry], show: Callable[[LogEntry], None]) -> None:
    for entry in entries:
        show(entry)


def _remote(
    url: str,
    params: dict[str, str | None],
    limit: int,
    follow: bool,
    show: Callable[[LogEntry], None],
) -> None:
    from ops_monitor.client import MonitorClientError, OpsMonitorClient

    given = {k: v for k, v in params.items() if v}
    try:
        with OpsMonitorClient(url) as client:
            page = client.search_logs(**given, limit=limit)
            entries = [LogEntry.model_validate(r) for r in page["records"]]
            _print(reversed(entries), show)
            last_id = max((e.id for e in entries), default=0)
            newest: datetime | None = max((e.timestamp for e in entries), default=None)
            while follow:
                time.sleep(POLL_SECONDS)
                since = {"since": newest.isoformat()} if newest is not None else {}
                filters: dict[str, Any] = {k: v for k, v in given.items() if k != "since"}
                page = client.search_logs(**filters, **since, limit=MAX_LIMIT)
                fresh = [LogEntry.model_validate(r) for r in page["records"]]
                fresh = sorted((e for e in fresh if e.id > last_id), key=lambda e: e.id)
                _print(fresh, show)
                if fresh:
                    last_id = fresh[-1].id
                    newest = max(e.timestamp for e in fresh)
    except MonitorClientError as error:
        raise click.ClickException(f"{url}: {error}") from error
    except KeyboardInterrupt:
        return
