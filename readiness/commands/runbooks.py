"""`readiness runbooks`: render the operations runbooks, or with `--check` fail when a committed
one is stale."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import click

EXAMPLES = """\b
Examples:
  readiness runbooks                      render runbooks/*.md from the monitor's configuration
  readiness runbooks --check              exit 1 and show a diff when a committed runbook is stale
  readiness runbooks --out docs/runbooks  render somewhere else
  OPS_MONITOR_SCHEDULES='{"full": "30 1 * * *"}' readiness runbooks --check
"""


@click.command("runbooks", epilog=EXAMPLES)
@click.option("--check", "check_only", is_flag=True, help="Change nothing; exit 1 if stale.")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Directory of the runbooks (default: ROOT/runbooks).",
)
@click.option(
    "--root",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=Path(),
    show_default=True,
    help="Repository whose monitor configuration, hooks and action are documented.",
)
@click.option("--debug", is_flag=True, hidden=True)
def runbooks(check_only: bool, out_dir: Path | None, root: Path, debug: bool) -> int:
    """Render the operations runbooks from the monitor configuration and the rules' docs."""
    from readiness.runbooks.files import stale_runbooks, write_runbooks
    from readiness.runbooks.render import render_for

    target = out_dir if out_dir is not None else root / "runbooks"
    rendered = render_for(root)
    if check_only:
        stale = stale_runbooks(target, rendered)
        for item in stale:
            click.echo(item.diff, nl=False)
        _summarise(stale_paths=[item.path for item in stale], checked=len(rendered))
        return 1 if stale else 0
    written = write_runbooks(target, rendered)
    for path in written:
        click.echo(f"wrote {path}", err=True)
    if not written:
        click.echo(f"{len(rendered)} runbooks in {target} are up to date", err=True)
    return 0


def _summarise(stale_paths: Iterable[Path], checked: int) -> None:
    names = [str(path) for path in stale_paths]
    if names:
        click.echo(
            f"stale runbooks: {', '.join(names)} (run 'readiness runbooks' and commit them)",
            err=True,
        )
    else:
        click.echo(f"{checked} runbooks are up to date", err=True)
