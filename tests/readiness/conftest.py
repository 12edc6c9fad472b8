"""Fixtures for the readiness tests: real files, real git repositories, real subprocesses."""

from __future__ import annotations

import contextlib
import os
import select
import signal
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

WriteFile = Callable[[str, str], Path]
WaitForExit = Callable[[int, float], bool]


@pytest.fixture
def write(tmp_path: Path) -> WriteFile:
    """Write a text file under tmp_path and return its path."""

    def _write(relative: str, text: str) -> Path:
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path

    return _write


@pytest.fixture
def wait_for_exit() -> Iterator[WaitForExit]:
    """Wait until a process (a grandchild, not ours to reap) has exited: true once it has, false
    if it still runs after `timeout` seconds. No polling and no sleep: the process's pidfd becomes
    readable the moment it exits. A process still running is killed when the test ends."""
    survivors: list[int] = []

    def _wait(pid: int, timeout: float) -> bool:
        try:
            descriptor = os.pidfd_open(pid)
        except ProcessLookupError:
            return True  # exited and already reaped
        try:
            readable, _, _ = select.select([descriptor], [], [], timeout)
        finally:
            os.close(descriptor)
        if not readable:
            survivors.append(pid)
        return bool(readable)

    yield _wait
    for pid in survivors:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
