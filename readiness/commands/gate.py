"""`readiness gate`: one gate evaluated on its own, as nox and CI do."""

from __future__ import annotations

import click

from readiness.commands.lazy_group import LazyGroup

GATE_EXAMPLES = """\b
Examples:
  readiness gate coverage coverage.json --total 90 --path 'ops_monitor/api/**=80'
  readiness gate coverage coverage/lcov.info --path 'src/routes/**=80'
"""


@click.group(
    cls=LazyGroup,
    epilog=GATE_EXAMPLES,
    lazy_commands={"coverage": "readiness.commands.gate_coverage:gate_coverage"},
)
def gate() -> None:
    """Evaluate one gate on its own (as nox and CI do)."""
