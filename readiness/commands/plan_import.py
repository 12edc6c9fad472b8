"""`readiness plan import`: a Markdown plan turned into a readiness.yaml skeleton."""

from __future__ import annotations

from pathlib import Path

import click

from checks.cli_support import UserError
from readiness.atomic_write import write_atomically
from readiness.commands.plan import PLAN_EXAMPLES


@click.command("import", epilog=PLAN_EXAMPLES)
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
