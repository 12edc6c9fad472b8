"""Line splitting as the sources need it: only `\n` (or `\r\n`) ends a line.

A file opened with `newline=""` (as `ops-monitor ingest` does, to keep `\r\n` intact) is also
split at a lone `\r`, which inside a log message is just a character. `logical_lines` joins such
pieces back, so a message holding a carriage return stays one line."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

MAX_LINE_CHARS = 1_000_000  # pieces joined past this are handed on, to bound memory


def logical_lines(lines: Iterable[str]) -> Iterator[str]:
    """`lines` with every piece that ends in a lone `\r` joined to the piece after it."""
    held: list[str] = []
    held_chars = 0
    for line in lines:
        if line[-1:] == "\r":  # a `\r\n` ending would end in `\n`: this `\r` stood alone
            held.append(line)
            held_chars += len(line)
            if held_chars < MAX_LINE_CHARS:
                continue
            line = ""
        if held:
            line = "".join(held) + line
            held.clear()
            held_chars = 0
        yield line
    if held:
        yield "".join(held)
