"""`readiness monitors`: the repository's cron jobs as monitors of a running ops monitor."""

from __future__ import annotations

import click

from readiness.commands.lazy_group import LazyGroup

MONITORS_EXAMPLES = """\b
Examples:
  OPS_MONITOR_URL=http://127.0.0.1:8787 readiness monitors sync
  readiness monitors sync examples/workers-monorepo --url http://127.0.0.1:8787
"""


@click.group(
    cls=LazyGroup,
    epilog=MONITORS_EXAMPLES,
    lazy_commands={"sync": "readiness.commands.monitors_sync:monitors_sync"},
)
def monitors() -> None:
    """Cron monitors for the repository's Workers, declared in a running ops monitor."""
