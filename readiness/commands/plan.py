"""`readiness plan`: the commands that make and change a readiness.yaml."""

from __future__ import annotations

import click

from readiness.commands.lazy_group import LazyGroup

PLAN_EXAMPLES = """\b
Examples:
  readiness plan import docs/PLAN.md -o readiness.yaml
  readiness plan import docs/PLAN.md > readiness.yaml
  readiness plan init --template workers-monorepo
"""


@click.group(
    cls=LazyGroup,
    epilog=PLAN_EXAMPLES,
    lazy_commands={
        "import": "readiness.commands.plan_import:plan_import",
        "init": "readiness.commands.plan_init:plan_init",
    },
)
def plan() -> None:
    """Work with readiness plans (readiness.yaml)."""
