"""The `command` gate: a tool's exit status decides, its output is the evidence.

Commands run in their own process group so that a timeout stops the whole tree (`npm run` starts
node, which starts more), not just the first process.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from readiness.gates.result import GateContext, GateResult, Status, truncate
from readiness.plan import CommandGate

# Our own tools run with the interpreter that runs us, whether or not a venv is on PATH.
_OWN_TOOLS = {"readiness": "readiness", "ops-monitor": "ops_monitor"}
_PYTHONS = {"python", "python3"}


@dataclass(frozen=True)
class CommandOutcome:
    argv: list[str]
    exit_code: int | None  # None: did not start or did not finish
    output: str
    duration: float
    problem: str | None = None  # why it did not start or finish


def resolve_argv(argv: Sequence[str]) -> list[str]:
    if argv and argv[0] in _OWN_TOOLS:
        return [sys.executable, "-m", _OWN_TOOLS[argv[0]], *argv[1:]]
    if argv and argv[0] in _PYTHONS:
        return [sys.executable, *argv[1:]]
    return list(argv)


def tool_env(env: Mapping[str, str]) -> dict[str, str]:
    """The environment with our interpreter's scripts directory first on PATH, so that tools
    installed beside us (ruff, mypy, lint-imports) are found without activating a venv."""
    scripts = str(Path(sys.executable).parent)
    path = env.get("PATH", os.defpath)
    return {**env, "PATH": f"{scripts}{os.pathsep}{path}"}


def run_command(
    argv: Sequence[str], cwd: Path, timeout: float, env: Mapping[str, str]
) -> CommandOutcome:
    """Run argv with stdout and stderr interleaved; never raises for the command's own failures."""
    command = resolve_argv(argv)
    started = time.monotonic()
    if not cwd.is_dir():
        return CommandOutcome(command, None, "", 0.0, f"working directory {cwd} does not exist")
    try:
        process = subprocess.Popen(
            command,
            cwd=cwd,
            env=tool_env(env),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    except OSError as error:
        problem = f"cannot run {shlex.join(argv)}: {error.strerror or error}"
        return CommandOutcome(command, None, "", time.monotonic() - started, problem)
    try:
        raw, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(process)
        raw, _ = process.communicate()
        output = raw.decode("utf-8", "replace")
        problem = f"timed out after {timeout:g}s"
        return CommandOutcome(command, None, output, time.monotonic() - started, problem)
    output = raw.decode("utf-8", "replace")
    return CommandOutcome(command, process.returncode, output, time.monotonic() - started)


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):  # the group may end between timeout and kill
        os.killpg(process.pid, signal.SIGKILL)


def evaluate(spec: CommandGate, context: GateContext) -> GateResult:
    cwd = context.root / spec.cwd if spec.cwd else context.root
    env = {**context.env, **spec.env}
    outcome = run_command(spec.argv, cwd, spec.timeout, env)
    shown = shlex.join(spec.argv)
    details = {"argv": spec.argv, "cwd": str(cwd), "exit_code": outcome.exit_code}
    evidence = truncate(f"$ {shown}\n{outcome.output}".rstrip())
    if outcome.problem is not None:
        return GateResult("command", Status.ERROR, f"{shown}: {outcome.problem}", evidence, details)
    if outcome.exit_code == spec.expect_exit:
        return GateResult(
            "command", Status.PASS, f"{shown} exited {outcome.exit_code}", evidence, details
        )
    summary = f"{shown} exited {outcome.exit_code}, expected {spec.expect_exit}"
    return GateResult("command", Status.FAIL, summary, evidence, details)
