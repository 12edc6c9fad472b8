"""`readiness`: audit a repository, evaluate its plan's gates, render reports and runbooks."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import click

from checks.cli import check
from checks.cli_support import UserError, run
from readiness.plans import plan_init
from readiness.report_cli import gate, report
from readiness.report_files import write_atomically
from readiness.runbooks import runbooks

EXAMPLES = """\b
Examples:
  readiness check                                   audit the current repository
  readiness report examples/workers-monorepo        evaluate a plan's gates, write reports
  readiness plan import PLAN.md > readiness.yaml    turn a Markdown plan into gates
  readiness runbooks --check                        fail when a committed runbook is stale
"""

PLAN_EXAMPLES = """\b
Examples:
  readiness plan import docs/PLAN.md -o readiness.yaml
  readiness plan import docs/PLAN.md > readiness.yaml
  readiness plan init --template workers-monorepo
"""


@click.group(epilog=EXAMPLES)
@click.version_option(package_name="readiness-toolkit", prog_name="readiness")
@click.option("--debug", is_flag=True, help="Show tracebacks for internal errors.")
def cli(debug: bool) -> None:
    """Tell, with evidence, whether a repository is ready for production."""


@cli.group(epilog=PLAN_EXAMPLES)
def plan() -> None:
    """Work with readiness plans (readiness.yaml)."""


@plan.command("import", epilog=PLAN_EXAMPLES)
@click.argument("markdown", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the YAML here (atomically) instead of to stdout.",
)
def plan_import(markdown: Path, output: Path | None) -> None:
    """Turn a Markdown plan into a readiness.yaml skeleton; list what could not be placed."""
    from readiness.markdown_import import import_markdown  # imported on use: keeps startup fast

    try:
        text = markdown.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise UserError(f"{markdown}: cannot read: {error}") from error
    imported = import_markdown(text)
    header = f"# Imported from {markdown.name}; review the gates, then commit.\n"
    document = header + imported.to_yaml()
    if output is None:
        click.echo(document, nl=False)
    else:
        write_atomically(output, document)
        click.echo(f"wrote {output}", err=True)
    for item in imported.unplaced:
        click.echo(f"{markdown}: unplaced: {item}", err=True)


cli.add_command(check)
cli.add_command(report)
cli.add_command(gate)
cli.add_command(runbooks)
plan.add_command(plan_init)


def main(argv: Sequence[str] | None = None) -> int:
    return run(cli, argv, prog_name="readiness")
