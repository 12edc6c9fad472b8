"""`readiness`: audit a repository, evaluate its plan's gates, render reports and runbooks.

This module only assembles the command group; each command lives in `readiness/commands/` and is
imported when it is used.
"""

from __future__ import annotations

from collections.abc import Sequence

import click

from checks.cli_support import run
from readiness.commands.lazy_group import LazyGroup

# name -> "module:attribute"
COMMANDS = {
    "check": "readiness.commands.check:check",
    "gate": "readiness.commands.gate:gate",
    "monitors": "readiness.commands.monitors:monitors",
    "plan": "readiness.commands.plan:plan",
    "report": "readiness.commands.report:report",
    "runbooks": "readiness.commands.runbooks:runbooks",
    "tools": "readiness.commands.tools:tools",
}

EXAMPLES = """\b
Examples:
  readiness check                                   audit the current repository
  readiness report examples/workers-monorepo        evaluate a plan's gates, write reports
  readiness plan import PLAN.md > readiness.yaml    turn a Markdown plan into gates
  readiness runbooks --check                        fail when a committed runbook is stale
  readiness monitors sync --url URL                 one cron monitor per Wrangler cron trigger
"""


@click.group(cls=LazyGroup, epilog=EXAMPLES, lazy_commands=COMMANDS)
@click.version_option(package_name="readiness-toolkit", prog_name="readiness")
@click.option("--debug", is_flag=True, help="Show tracebacks for internal errors.")
def cli(debug: bool) -> None:
    """Tell, with evidence, whether a repository is ready for production."""


def main(argv: Sequence[str] | None = None) -> int:
    return run(cli, argv, prog_name="readiness")
