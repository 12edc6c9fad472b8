"""Counting and sampling input that could not be parsed: never fatal, always reported."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

SAMPLE_CHARS = 200

# Control characters (C0, DEL, C1), lone surrogates and bidirectional overrides: a sample is
# printed on terminals and returned in JSON, where these would move the cursor, garble the
# output, reorder what is shown, or fail to encode at all.
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_NAMED = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def _escape(found: re.Match[str]) -> str:
    char = found.group()
    named = _NAMED.get(char)
    if named is not None:
        return named
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """`text` with every unprintable character written as a backslash escape."""
    return _UNPRINTABLE.sub(_escape, text)


@dataclass
class MalformedLines:
    """Filled in by a source while it is read; its totals go into the next scan's record.

    `line` is the line the source is reading now: sources set it before they hand out a record,
    so a record that parsed but that the service then refuses (a timestamp out of bounds) is
    still reported at its line."""

    keep: int = 10
    count: int = 0
    samples: list[str] = field(default_factory=list)
    line: int = 0
    line_base: int = 0  # lines before the first one read (a file ingest resumed part-way)
    _refused_line: int = field(default=-1, init=False, repr=False)

    def add(self, line_no: int, reason: str, text: str) -> None:
        self.count += 1
        if len(self.samples) < self.keep:
            where = f"line {line_no + self.line_base}" if line_no else "record"
            self.samples.append(printable(f"{where}: {reason}: {text.strip()[:SAMPLE_CHARS]}"))

    def refuse(self, reason: str, text: str) -> None:
        """A parsed record that cannot be stored, at the current `line`. One line (a tail event)
        can stand for several records: it is counted once however many of them are refused."""
        if self.line and self.line == self._refused_line:
            return
        self._refused_line = self.line
        self.add(self.line, reason, text)
