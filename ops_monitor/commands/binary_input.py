"""Refusing a binary file where a log is expected: `ops-monitor ingest` and `templates` of an
image or an archive would otherwise store or echo garbage and exit 0.

A file is binary as git decides it: a NUL byte in its first 8 KiB. Standard input is peeked at,
not consumed.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import IO, cast

import click

SNIFF_BYTES = 8192


class BinaryInput(click.ClickException):
    """A binary file where text was expected: a usage error."""

    exit_code = 2


class BinaryLog(BinaryInput):
    """A binary file given to `ingest`: it holds no valid record (exit 1, as any such file)."""

    exit_code = 1


def nul_offset(head: bytes) -> int | None:
    """Where the first NUL byte is in the first SNIFF_BYTES of `head`, or None for text."""
    position = head.find(b"\0", 0, SNIFF_BYTES)
    return None if position < 0 else position


def _refuse(name: str, head: bytes, error: type[BinaryInput]) -> None:
    position = nul_offset(head)
    if position is not None:
        raise error(
            f"{name}: a binary file (NUL byte at offset {position}), not a log: no valid record"
        )


def refuse_binary_file(path: Path, error: type[BinaryInput] = BinaryInput) -> None:
    """Raise a one-line `error` when `path` (or `-`, standard input) is binary."""
    if str(path) == "-":
        refuse_binary_stream(sys.stdin.buffer, "-", error)
        return
    try:
        if not path.is_file():  # a device or a pipe is not read twice: the command reads it
            return
        with path.open("rb") as handle:
            head = handle.read(SNIFF_BYTES)
    except OSError:
        return  # the command reports an unreadable file itself
    _refuse(str(path), head, error)


def refuse_binary_stream(
    stream: IO[bytes], name: str, error: type[BinaryInput] = BinaryInput
) -> None:
    """The same for an open stream, looked at without consuming it (when it can be peeked)."""
    peek = getattr(stream, "peek", None)
    if peek is None:
        return
    head = cast("Callable[[int], bytes]", peek)(SNIFF_BYTES)
    _refuse(name, bytes(head)[:SNIFF_BYTES], error)
