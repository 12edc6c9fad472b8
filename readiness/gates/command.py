"""The `command` gate: a tool's exit status decides, its output is the evidence.

Commands run in their own process group so that a timeout stops the whole tree (`npm run` starts
node, which starts more), not just the first process.
"""

from __future__ import annotations

import atexit
import contextlib
import io
import os
import shlex
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import cast

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


KEEP_BYTES = 256 * 1024  # of a command's output, kept from its start and again from its end
_LEFTOVER_GRACE = 5.0  # seconds to read what is left in the pipe once the command has exited
_live: set[int] = set()  # process groups of commands still running, stopped if we exit first


@atexit.register
def _stop_live_commands() -> None:
    """A report that ends (a criterion past its deadline, Ctrl-C) takes its commands with it."""
    for group in list(_live):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(group, signal.SIGKILL)


class _Capture(threading.Thread):
    """Reads a pipe to its end in bounded memory: the head and the tail, with a count of what
    lay between. A command printing gigabytes must not take the report's memory with it."""

    def __init__(self, stream: io.BufferedReader) -> None:
        super().__init__(daemon=True)
        self.stream = stream
        self.head = bytearray()
        self.tail = bytearray()
        self.dropped = 0

    def run(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            while chunk := self.stream.read1(65536):
                room = KEEP_BYTES - len(self.head)
                self.head += chunk[:room]
                self.tail += chunk[room:]
                if len(self.tail) > 2 * KEEP_BYTES:
                    self.dropped += len(self.tail) - KEEP_BYTES
                    del self.tail[:-KEEP_BYTES]

    def text(self) -> str:
        if len(self.tail) > KEEP_BYTES:
            self.dropped += len(self.tail) - KEEP_BYTES
            del self.tail[:-KEEP_BYTES]
        gap = f"\n[... {self.dropped} bytes omitted ...]\n" if self.dropped else ""
        return self.head.decode("utf-8", "replace") + gap + self.tail.decode("utf-8", "replace")


def run_command(
    argv: Sequence[str], cwd: Path, timeout: float, env: Mapping[str, str]
) -> CommandOutcome:
    """Run argv with stdout and stderr interleaved; never raises for the command's own failures.

    The verdict is the command's own exit: processes it leaves running in its group (a server
    started with `&`) are stopped then, rather than holding the output open until the timeout."""
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
        refused = f"cannot run {shlex.join(argv)}: {error.strerror or error}"
        return CommandOutcome(command, None, "", time.monotonic() - started, refused)
    _live.add(process.pid)
    stdout = cast(io.BufferedReader, process.stdout)  # a pipe: stdout=PIPE above
    capture = _Capture(stdout)
    capture.start()
    problem: str | None = None
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        problem = f"timed out after {_seconds(timeout)}s"
    finally:
        _kill_group(process)  # the command on a timeout; whatever it left behind otherwise
        process.wait()
        _live.discard(process.pid)
    capture.join(_LEFTOVER_GRACE)
    stdout.close()
    exit_code = None if problem else process.returncode
    return CommandOutcome(command, exit_code, capture.text(), time.monotonic() - started, problem)


def _seconds(value: float) -> str:
    """600 -> "600", 0.4999 (what was left before a criterion's deadline) -> "0.5"."""
    return f"{value:.1f}".removesuffix(".0")


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):  # the group may be gone
        os.killpg(process.pid, signal.SIGKILL)


def evaluate(spec: CommandGate, context: GateContext) -> GateResult:
    cwd = context.root / spec.cwd if spec.cwd else context.root
    env = {**context.env, **spec.env}
    outcome = run_command(spec.argv, cwd, context.time_left(spec.timeout), env)
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
