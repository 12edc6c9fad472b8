"""Find where the header of a log line ends, without being told the log's format.

A header is the run of fields a logger puts before the message: timestamps, levels, hosts, pids,
`component:` names, bracketed fields, separators. Formats differ per source, but within one
source every line has the same header, so we learn its length from the first lines:

* each line is cut into fields (whitespace, with a bracketed group kept whole) and each field
  gets a kind (timestamp, level, number, bracket, `name:`, separator, or plain word);
* a header may end after a timestamp, level, bracket, `name:` or separator field; every such
  position in the first fields of a line is a candidate end;
* the header length is the longest candidate shared by nearly all the learning lines. Messages
  vary, so a message-internal `name:` rarely reaches that share, while the true header does.

Lines that do not have the learned end as a candidate lose their longest shorter candidate
instead, so an unusual line keeps its message.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from enum import Enum

LEARNING_LINES = 200
MAX_HEADER_FIELDS = 12
SHARE = 0.9


class Kind(Enum):
    """What a header field looks like."""

    TIMESTAMP = "timestamp"
    LEVEL = "level"
    NUMBER = "number"
    BRACKET = "bracket"
    NAME = "name"  # `component:` or `process[pid]:`
    SEPARATOR = "separator"
    WORD = "word"


ENDS_HEADER = frozenset({Kind.TIMESTAMP, Kind.LEVEL, Kind.BRACKET, Kind.NAME, Kind.SEPARATOR})

_LEVELS = frozenset(
    "trace debug dbg fine finer finest config info information informational notice warn "
    "warning error err severe crit critical alert emerg emergency fatal panic".split()
)
_TIMESTAMP = re.compile(
    r"""
    \d{4}[-/.]\d{1,2}[-/.]\d{1,2}(?:[T_\-]\d{1,2}[:.]\d{2}(?:[:.]\d{2})?(?:[.,]\d+)?)?
        (?:Z|[+-]\d{2}:?\d{2})?
    | \d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}
    | \d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?
    | (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.?,?
    | (?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*\.?,?
    | \d{10}(?:\d{3})?(?:\.\d+)?
    """,
    re.VERBOSE,
)
_SEPARATORS = frozenset({"-", "--", "|", ":", "::", ">", "=>", "->", "~"})
_OPENERS = {"[": "]", "(": ")", "<": ">", "{": "}"}


def fields(line: str, limit: int = MAX_HEADER_FIELDS) -> list[tuple[str, int]]:
    """The first `limit` fields of `line` as (text, end offset); a bracketed group is one field."""
    found: list[tuple[str, int]] = []
    position, size = 0, len(line)
    while position < size and len(found) < limit:
        while position < size and line[position].isspace():
            position += 1
        if position >= size:
            break
        start = position
        closer = _OPENERS.get(line[position])
        if closer is not None and closer in line[position:]:
            depth = 0
            opener = line[position]
            while position < size:
                char = line[position]
                depth += (char == opener) - (char == closer)
                position += 1
                if depth == 0:
                    break
            while position < size and not line[position].isspace():
                position += 1
        else:
            while position < size and not line[position].isspace():
                position += 1
        found.append((line[start:position], position))
    return found


def kind_of(text: str) -> Kind:
    """Classify one field by its shape alone."""
    bare = text.strip("[]<>():,")
    if bare.lower() in _LEVELS:
        return Kind.LEVEL
    if text in _SEPARATORS:
        return Kind.SEPARATOR
    if text[0] in _OPENERS and text.rstrip(":")[-1] == _OPENERS[text[0]]:
        inner = text.rstrip(":")[1:-1].split()
        if inner and any(_TIMESTAMP.fullmatch(part) for part in inner):
            return Kind.TIMESTAMP
        return Kind.BRACKET
    if _TIMESTAMP.fullmatch(text):
        return Kind.TIMESTAMP
    if text.isdigit():
        return Kind.NUMBER
    if len(text) > 1 and text.endswith(":") and not text.endswith("::"):
        return Kind.NAME
    return Kind.WORD


def candidate_ends(line: str) -> list[tuple[int, int]]:
    """(fields in the header, offset where the message starts) for each place a header may end."""
    ends = [(0, 0)]
    for index, (text, offset) in enumerate(fields(line), start=1):
        if kind_of(text) in ENDS_HEADER:
            ends.append((index, offset))
    return ends


def learn_header_fields(lines: Sequence[str]) -> int:
    """How many fields the header of these lines has (0 when they have none)."""
    if not lines:
        return 0
    support: Counter[int] = Counter()
    for line in lines:
        support.update({count for count, _ in candidate_ends(line)})
    needed = SHARE * len(lines)
    return max(count for count, seen in support.items() if seen >= needed)


def strip_header(line: str, header_fields: int) -> str:
    """The message of `line`: what follows its header (the longest candidate up to the learned)."""
    offset = max(off for count, off in candidate_ends(line) if count <= header_fields)
    return line[offset:].strip()


@dataclass
class HeaderStripper:
    """Strips headers from a stream of lines, learning the header from its first lines."""

    learning_lines: int = LEARNING_LINES
    header_fields: int | None = None
    _pending: list[str] = field(default_factory=list)

    def messages(self, lines: Iterable[str]) -> Iterator[str]:
        """Yield the message of every line, in order; memory is bounded by `learning_lines`."""
        for line in lines:
            if self.header_fields is not None:
                yield strip_header(line, self.header_fields)
                continue
            self._pending.append(line)
            if len(self._pending) >= self.learning_lines:
                yield from self._flush()
        if self.header_fields is None:
            yield from self._flush()

    def _flush(self) -> Iterator[str]:
        pending, self._pending = self._pending, []
        self.header_fields = learn_header_fields(pending)
        for line in pending:
            yield strip_header(line, self.header_fields)
