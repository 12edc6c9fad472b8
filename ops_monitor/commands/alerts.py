"""`ops-monitor alerts`: `test` sends a test alert to every configured target and says how it
went; `deliveries` lists the recorded deliveries."""

from __future__ import annotations

from datetime import UTC, datetime

import click
from rich.console import Console
from rich.table import Table

from ops_monitor.commands.local import db_option, load_settings, open_store

EXAMPLES = """\b
Examples:
  ops-monitor alerts test
  ops-monitor alerts deliveries --limit 20
"""


@click.group("alerts", epilog=EXAMPLES)
def alerts_group() -> None:
    """Webhook alerts (configured under `alerts:`): test them, list what was sent."""


@alerts_group.command("test")
@db_option
def test_command(db_url: str | None) -> None:
    """Send a test alert to every configured target; exit 1 if any did not take it."""
    from ops_monitor.alerts.dispatcher import AlertDispatcher, test_event
    from ops_monitor.oncall.service import OnCallService

    settings = load_settings(db_url)
    if not settings.alerts:
        raise click.UsageError("no alert targets are configured (add `alerts:` to the config)")
    store = open_store(settings)
    dispatcher = AlertDispatcher(settings.alerts, store, OnCallService(store))
    try:
        ids = dispatcher.deliver(test_event(datetime.now(UTC)))
        oncall = OnCallService(store)
        found = {d.id: d for d in oncall.deliveries(limit=max(len(ids), 1) + 50, subject="test")}
    finally:
        dispatcher.stop()
        store.close()
    failed = 0
    for delivery_id in ids:
        delivery = found[delivery_id]
        ok = delivery.status == "delivered"
        failed += not ok
        answer = delivery.response_status if delivery.response_status is not None else "-"
        why = "" if ok else f": {delivery.error}"
        click.echo(
            f"{delivery.status}: {delivery.target} ({delivery.kind}, answer {answer}, "
            f"{delivery.attempts} attempt{'s' if delivery.attempts != 1 else ''}){why}"
        )
    if failed:
        raise click.exceptions.Exit(1)


@alerts_group.command("deliveries")
@click.option("--limit", type=click.IntRange(1, 500), default=50, show_default=True)
@db_option
def deliveries_command(limit: int, db_url: str | None) -> None:
    """The latest alert deliveries, newest first."""
    from ops_monitor.oncall.service import OnCallService

    store = open_store(load_settings(db_url))
    try:
        rows = OnCallService(store).deliveries(limit)
    finally:
        store.close()
    if not rows:
        click.echo("no deliveries")
        return
    table = Table("id", "when", "event", "subject", "target", "status", "attempts", "answer")
    for d in rows:
        table.add_row(
            str(d.id),
            d.created_at.isoformat(timespec="seconds"),
            d.event,
            d.subject,
            d.target,
            d.status,
            str(d.attempts),
            "-" if d.response_status is None else str(d.response_status),
        )
    Console(width=160).print(table)
