"""`readiness tools`: the external tools the audit can use, prepared ahead of time."""

from __future__ import annotations

import click

from readiness.commands.lazy_group import LazyGroup

TOOLS_EXAMPLES = """\b
Examples:
  readiness tools install      install TypeScript for syntax-error's second opinion, now
"""


@click.group(
    cls=LazyGroup,
    epilog=TOOLS_EXAMPLES,
    lazy_commands={"install": "readiness.commands.tools_install:tools_install"},
)
def tools() -> None:
    """Prepare the tools the audit uses (for machines that are offline later)."""
