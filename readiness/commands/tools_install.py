"""`readiness tools install`: put the pinned TypeScript into the per-user cache now, so a later
audit (a pre-commit hook on a train, a CI runner without the registry) never installs it."""

from __future__ import annotations

import click

from checks.cli_support import UserError
from readiness.commands.tools import TOOLS_EXAMPLES


@click.command("install", epilog=TOOLS_EXAMPLES)
def tools_install() -> None:
    """Install TypeScript for the syntax-error rule's second opinion (needs node and npm)."""
    from checks.typescript import TYPESCRIPT_VERSION, cache_state, install

    if cache_state().installed:
        click.echo(f"TypeScript {TYPESCRIPT_VERSION} is installed in {cache_state().directory}")
        return
    state = install()
    if not state.installed:
        raise UserError(
            f"could not install TypeScript {TYPESCRIPT_VERSION} into {state.directory}: npm is"
            " missing or the registry is unreachable (without it, syntax-error falls back on the"
            " grammars' known gaps)"
        )
    click.echo(f"installed TypeScript {TYPESCRIPT_VERSION} into {state.directory}")
