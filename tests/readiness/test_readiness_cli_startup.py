"""The command group loads a command's modules only when that command runs: `readiness check`
runs as a pre-commit hook on every commit, and `--help` should not pay for pydantic or Jinja2."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = {"pydantic", "jinja2", "git", "cronsim", "yaml", "markdown_it", "jsonschema", "httpx"}
COMMAND_MODULES = {
    "check": "readiness.commands.check",
    "gate": "readiness.commands.gate",
    "plan": "readiness.commands.plan",
    "report": "readiness.commands.report",
    "runbooks": "readiness.commands.runbooks",
}
LOADED = """\
import sys
from readiness.cli import main
status = main(sys.argv[1:])
print(status, *sorted(sys.modules), file=sys.stderr)
"""


def loaded_modules(*argv: str) -> set[str]:
    """Run `readiness ARGV` in a fresh interpreter; the modules it had imported when done."""
    result = subprocess.run(
        [sys.executable, "-c", LOADED, *argv], capture_output=True, text=True, check=False
    )
    status, *modules = result.stderr.split()
    assert status == "0", result.stderr
    return set(modules)


def test_help_lists_every_command_without_their_internals() -> None:
    loaded = loaded_modules("--help")

    assert set(COMMAND_MODULES.values()) <= loaded
    assert not {name.split(".")[0] for name in loaded} & HEAVY
    assert not {m for m in loaded if m.startswith(("readiness.report", "readiness.runbooks"))}


@pytest.mark.parametrize("command", sorted(COMMAND_MODULES))
def test_a_commands_help_loads_that_command_alone(command: str) -> None:
    loaded = loaded_modules(command, "--help")

    others = set(COMMAND_MODULES.values()) - {COMMAND_MODULES[command]}
    assert COMMAND_MODULES[command] in loaded
    assert not loaded & others
    assert not {name.split(".")[0] for name in loaded} & HEAVY
