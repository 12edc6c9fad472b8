"""`readiness plan init`: a readiness.yaml started from a plan shipped with the package."""

from __future__ import annotations

from pathlib import Path

import click

from checks.cli_support import UserError
from readiness.atomic_write import write_atomically
from readiness.plans import DEFAULT_OUTPUT, plan_text, shipped_plans

INIT_EXAMPLES = """\b
Examples:
  readiness plan init                                  write readiness.yaml from the Workers plan
  readiness plan init --template workers-monorepo -o plans/readiness.yaml
  readiness plan init --force                          replace an existing readiness.yaml
"""


@click.command("init", epilog=INIT_EXAMPLES)
@click.option(
    "--template",
    type=click.Choice(shipped_plans()),
    default="workers-monorepo",
    show_default=True,
    help="The shipped plan to start from.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path(DEFAULT_OUTPUT),
    show_default=True,
    help="Where to write the plan.",
)
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
def plan_init(template: str, output: Path, force: bool) -> None:
    """Start a readiness.yaml from a shipped plan; edit its paths and commands, then commit it."""
    if output.exists() and not force:
        raise UserError(f"{output} already exists (use --force to replace it)")
    write_atomically(output, plan_text(template))
    click.echo(f"wrote {output} from the {template} plan", err=True)
