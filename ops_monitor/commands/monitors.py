"""`ops-monitor monitors list|show SLUG|pause SLUG|resume SLUG`: the monitored system's cron jobs.

Like `cron status`, it reads the database directly (it answers while the monitor is down), or
asks a running monitor with `--url`. `list` and `show` exit 1 when a monitor shown is failing
(missed, error, timed out), so either can serve as a health check.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.table import Table

from ops_monitor.commands.local import db_option, load_settings, resolve_remote, url_option

EXAMPLES = """\b
Examples:
  ops-monitor monitors list
  ops-monitor monitors show orchestrator-0-2-x-x-x --json
  ops-monitor monitors pause nightly-backup --url http://127.0.0.1:8787
"""
FAILING = ("missed", "error", "timed_out")
_COLOURS = {"ok": "green", "late": "yellow", "unknown": "yellow", "paused": "dim", "new": "cyan"}
T = TypeVar("T")

token_option = click.option(
    "--token-env",
    default="OPS_MONITOR_TOKEN",
    show_default=True,
    metavar="NAME",
    help="Environment variable holding the monitor's bearer token (with --url).",
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print the API's JSON.")


@click.group("monitors", epilog=EXAMPLES)
def monitors() -> None:
    """Cron monitors: each job's state, next expected run and latest check-ins."""


class Access:
    """The same four operations on the database or on a running monitor."""

    def __init__(self, db_url: str | None, remote_url: str | None, token_env: str) -> None:
        if remote_url and db_url:
            raise click.UsageError("give --db or --url, not both")
        self.token_env = token_env
        self.settings = load_settings(db_url, also_read=[token_env])
        self.url = None if db_url else resolve_remote(remote_url, self.settings)

    def call(self, local: Callable[[Any], T], remote: Callable[[Any], Any]) -> Any:
        if self.url:
            from ops_monitor.client import MonitorError, MonitorUnavailable, OpsMonitorClient

            token = os.environ.get(self.token_env) or None
            try:
                with OpsMonitorClient(self.url, token=token) as client:
                    found = remote(client)
            except MonitorError as error:
                raise click.ClickException(f"{self.url}: {error.message}") from None
            except MonitorUnavailable as error:
                raise click.ClickException(f"{self.url}: {error}") from None
            raw = [m.raw for m in found] if isinstance(found, list) else found.raw
            return json.loads(json.dumps(raw))
        from ops_monitor.monitors.service import MonitorNotFound

        with self._local() as service:
            try:
                result = local(service)
            except MonitorNotFound as error:
                raise click.ClickException(str(error)) from None
        if isinstance(result, list):
            return [item.model_dump(mode="json") for item in result]
        return result.model_dump(mode="json")  # type: ignore[attr-defined]

    @contextmanager
    def _local(self) -> Iterator[Any]:
        from ops_monitor.commands.local import open_store
        from ops_monitor.monitors.service import CronMonitors

        store = open_store(self.settings)
        try:
            yield CronMonitors(store)
        finally:
            store.close()


def _when(value: object) -> str:
    if not isinstance(value, str) or not value:
        return "-"
    return datetime.fromisoformat(value.replace("Z", "+00:00")).strftime("%Y-%m-%d %H:%M UTC")


def _state(state: str) -> str:
    colour = _COLOURS.get(state, "bold red")
    return f"[{colour}]{state}[/]"


def _schedule(config: Mapping[str, Any]) -> str:
    schedule = config.get("schedule")
    text = (
        f"every {schedule['interval']} {schedule['unit']}(s)"
        if isinstance(schedule, Mapping)
        else str(schedule)
    )
    zone = config.get("timezone") or "UTC"
    return text if zone == "UTC" else f"{text} ({zone})"


def _counts(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{count} {status}" for status, count in sorted(counts.items())) or "-"


def _console() -> Console:
    return Console(width=None if sys.stdout.isatty() else 160)


def render_list(found: list[Mapping[str, Any]], console: Console) -> None:
    window = found[0].get("window_hours", 24) if found else 24
    table = Table(title="cron monitors")
    for column in ("Monitor", "Schedule", "State", "Next expected", "Last check-in"):
        table.add_column(column)
    table.add_column(f"Runs ({window:g} h)")
    for item in found:
        table.add_row(
            str(item["slug"]),
            _schedule(item.get("config", {})),
            _state(str(item["state"])),
            _when(item.get("next_expected")),
            _when(item.get("last_checkin_at")),
            _counts(item.get("counts", {})),
        )
    console.print(table)


def render_detail(item: Mapping[str, Any], console: Console) -> None:
    config = item.get("config", {})
    console.print(f"[bold]{item['slug']}[/]  {_state(str(item['state']))}", highlight=False)
    lines = {
        "schedule": _schedule(config),
        "margin": f"{config.get('checkin_margin')} min",
        "max runtime": f"{config.get('max_runtime')} min",
        "thresholds": (
            f"issue after {config.get('failure_issue_threshold')} failure(s), "
            f"resolved after {config.get('recovery_threshold')} success(es)"
        ),
        "next expected": _when(item.get("next_expected")),
        "last check-in": _when(item.get("last_checkin_at")),
        "ping key": str(item.get("ping_key", "-")),
    }
    for name, value in lines.items():
        console.print(f"  {name}: {value}", highlight=False)
    table = Table(title="latest check-ins")
    for column in ("At", "Status", "Expected at", "Duration", "Origin", "Note"):
        table.add_column(column)
    for run in item.get("checkins", []):
        duration = run.get("duration")
        note = run.get("excerpt") or ""
        table.add_row(
            _when(run.get("at")),
            _state(str(run["status"])),
            _when(run.get("slot")),
            "-" if duration is None else f"{duration:g} s",
            str(run.get("origin", "")),
            note if len(note) <= 60 else note[:59] + "\u2026",
        )
    console.print(table)


def _failing(items: list[Mapping[str, Any]]) -> int:
    return 1 if any(item.get("state") in FAILING for item in items) else 0


@monitors.command("list", epilog=EXAMPLES)
@db_option
@url_option
@token_option
@json_option
def list_command(db_url: str | None, remote_url: str | None, token_env: str, as_json: bool) -> int:
    """Every monitor with its state; exit 1 when one is missed, failed or timed out."""
    found = Access(db_url, remote_url, token_env).call(
        lambda service: service.monitors(), lambda client: client.monitors()
    )
    if as_json:
        click.echo(json.dumps(found, indent=2))
    else:
        render_list(found, _console())
    return _failing(found)


@monitors.command("show", epilog=EXAMPLES)
@click.argument("slug")
@db_option
@url_option
@token_option
@json_option
def show_command(
    slug: str, db_url: str | None, remote_url: str | None, token_env: str, as_json: bool
) -> int:
    """One monitor: configuration, ping key and latest check-ins; exit 1 when it is failing."""
    found = Access(db_url, remote_url, token_env).call(
        lambda service: service.monitor(slug), lambda client: client.monitor(slug)
    )
    if as_json:
        click.echo(json.dumps(found, indent=2))
    else:
        render_detail(found, _console())
    return _failing([found])


@monitors.command("pause", epilog=EXAMPLES)
@click.argument("slug")
@db_option
@url_option
@token_option
def pause_command(slug: str, db_url: str | None, remote_url: str | None, token_env: str) -> None:
    """Stop expecting runs of SLUG: nothing is missed (or filed) while it is paused."""
    Access(db_url, remote_url, token_env).call(
        lambda service: service.pause(slug), lambda client: client.pause_monitor(slug)
    )
    click.echo(f"paused {slug}")


@monitors.command("resume", epilog=EXAMPLES)
@click.argument("slug")
@db_option
@url_option
@token_option
def resume_command(slug: str, db_url: str | None, remote_url: str | None, token_env: str) -> None:
    """Expect runs of SLUG again, from now on."""
    found = Access(db_url, remote_url, token_env).call(
        lambda service: service.resume(slug), lambda client: client.resume_monitor(slug)
    )
    click.echo(f"resumed {slug}: next run expected {_when(found.get('next_expected'))}")
