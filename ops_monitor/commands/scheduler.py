"""`ops-monitor scheduler`: the scan scheduler alone, for when the API runs elsewhere.

It shares the database (and its run lock) with every other monitor process, so running it next
to `ops-monitor serve` replicas never doubles a tick. SIGTERM and Ctrl-C stop it between scans
(a scan in progress is finished first).
"""

from __future__ import annotations

import signal
from datetime import UTC, datetime
from types import FrameType

import click

from ops_monitor.commands.local import db_option, load_settings
from ops_monitor.scheduling.runtime import schedules_from
from ops_monitor.scheduling.schedules import Schedule

EXAMPLES = """\b
Examples:
  ops-monitor scheduler
  ops-monitor scheduler --db postgresql+psycopg://ops@db/ops
  OPS_MONITOR_SCHEDULES='{"full": "0 3 * * *"}' ops-monitor scheduler --next 5
"""


@click.command("scheduler", epilog=EXAMPLES)
@db_option
@click.option(
    "--next",
    "preview",
    type=click.IntRange(min=1),
    metavar="N",
    help="Print the next N ticks (and which scan each runs) and exit.",
)
def scheduler(db_url: str | None, preview: int | None) -> None:
    """Run the configured cron schedules (UTC) until stopped, one scan per tick.

    Catches up with one full scan at start when the last successful one is older than the full
    schedule's period. Every run is logged to stderr as one JSON line.
    """
    settings = load_settings(db_url)
    schedules = schedules_from(settings)
    if not schedules:
        raise click.UsageError("no schedules are configured: nothing to run")
    if preview is not None:
        _print_preview(schedules, preview)
        return
    from ops_monitor.commands.local import open_service
    from ops_monitor.metrics import REGISTRY
    from ops_monitor.scheduling.runtime import build_scheduler, configure_logging

    configure_logging()
    with open_service(settings) as service:
        loop = build_scheduler(
            service, service.store, schedules, registry=REGISTRY, settings=settings
        )

        def stop(signum: int, frame: FrameType | None) -> None:
            loop.stop()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        loop.run()


def _print_preview(schedules: list[Schedule], count: int) -> None:
    moment = datetime.now(UTC)
    for _ in range(count):
        fires = {schedule: schedule.next_fire(moment) for schedule in schedules}
        moment = min(fires.values())
        due = sorted(
            (schedule for schedule, fire in fires.items() if fire == moment),
            key=lambda schedule: schedule.priority,
        )
        winner, *others = due
        note = f" (supersedes {', '.join(other.name for other in others)})" if others else ""
        click.echo(f"{moment:%Y-%m-%d %H:%M} UTC  {winner.name}: {winner.scope} scan{note}")
