"""A click group whose subcommands are imported on first use.

`readiness check` runs as a pre-commit hook on every commit and must start fast; the modules
behind the other commands (pydantic models, Jinja2, GitPython) are loaded only when they run.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

import click


def with_version(command: click.Command) -> click.Command:
    """`command` with a `--version` option (added once): every command and subcommand answers
    it, as the README promises, whichever module defines it."""
    if not any(param.name == "version" for param in command.params):
        click.version_option(package_name="readiness-toolkit")(command)
    if isinstance(command, click.Group):
        for subcommand in command.commands.values():
            with_version(subcommand)
    return command


class LazyGroup(click.Group):
    """Subcommands given as `name -> "module:attribute"`, imported when looked up, each with a
    `--version` option."""

    def __init__(self, *args: Any, lazy_commands: Mapping[str, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy_commands = dict(lazy_commands)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.lazy_commands, *super().list_commands(ctx)})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = self.lazy_commands.get(cmd_name)
        if target is None:
            return super().get_command(ctx, cmd_name)
        module_name, attribute = target.split(":")
        command: click.Command = getattr(importlib.import_module(module_name), attribute)
        return with_version(command)
