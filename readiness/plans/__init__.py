"""Plans shipped with the package, as starting points for a repository's own `readiness.yaml`.

They are YAML files beside this module, so `readiness plan init --template NAME` (or a reader)
gets them as text with their comments; the plan model validates them like any other plan.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import click

from checks.cli_support import UserError
from readiness.report_files import write_atomically

SUFFIX = ".yaml"
# Where `readiness report` looks first (readiness.plan.PLAN_FILE); not imported from there, because
# this module loads with the CLI and the plan model pulls in pydantic.
DEFAULT_OUTPUT = "readiness.yaml"


def shipped_plans() -> list[str]:
    """The names of the shipped plans, e.g. `workers-monorepo`."""
    return sorted(
        entry.name.removesuffix(SUFFIX)
        for entry in resources.files(__name__).iterdir()
        if entry.name.endswith(SUFFIX)
    )


def plan_text(name: str) -> str:
    """The YAML text of a shipped plan; `KeyError` names the known ones."""
    if name not in shipped_plans():
        raise KeyError(f"no shipped plan {name!r}; known: {', '.join(shipped_plans())}")
    return resources.files(__name__).joinpath(name + SUFFIX).read_text(encoding="utf-8")


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
