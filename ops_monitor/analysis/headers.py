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

import functools
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
    [
        "trace",
        "debug",
        "dbg",
        "fine",
        "finer",
        "finest",
        "config",
        "info",
        "information",
        "informational",
        "notice",
        "warn",
        "warning",
        "error",
        "err",
        "severe",
        "crit",
        "critical",
        "alert",
        "emerg",
        "emergency",
        "fatal",
        "panic",
    ]
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


_FIELD = re.compile(
    r"""
    \[(?:[^\[\]]|\[[^\[\]]*\])*\]\S*     # a bracketed group, one level of nesting inside
    | \((?:[^()]|\([^()]*\))*\)\S*
    | <[^<>]*>\S*
    | \{[^{}]*\}\S*
    | \S+
    """,
    re.VERBOSE,
)


def fields(line: str, limit: int = MAX_HEADER_FIELDS) -> list[tuple[str, int]]:
    """The first `limit` fields of `line` as (text, end offset); a bracketed group is one field."""
    found: list[tuple[str, int]] = []
    for match in _FIELD.finditer(line):
        found.append((match.group(0), match.end()))
        if len(found) >= limit:
            break
    return found


@functools.lru_cache(maxsize=8192)
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


def learn_header(lines: Sequence[str]) -> tuple[int, re.Pattern[str] | None]:
    """How many fields the header of these lines has (0 when none), and a pattern for it."""
    if not lines:
        return 0, None
    parsed = [[(text, kind_of(text)) for text, _ in fields(line)] for line in lines]
    support: Counter[int] = Counter()
    for found in parsed:
        support.update({0, *(i for i, (_, kind) in enumerate(found, 1) if kind in ENDS_HEADER)})
    needed = SHARE * len(lines)
    header_fields = max(count for count, seen in support.items() if seen >= needed)
    return header_fields, _layout_pattern(parsed, header_fields)


def learn_header_fields(lines: Sequence[str]) -> int:
    """How many fields the header of these lines has (0 when they have none)."""
    return learn_header(lines)[0]


_KIND_PATTERNS = {
    Kind.LEVEL: rf"[\[(<]?(?i:{'|'.join(sorted(_LEVELS, key=len, reverse=True))})[\])>]?:?",
    Kind.NUMBER: r"\d+",
    Kind.SEPARATOR: "|".join(re.escape(s) for s in sorted(_SEPARATORS, key=len, reverse=True)),
    Kind.NAME: r"[^\s\[(<{]\S*:",
    Kind.TIMESTAMP: rf"(?:{_TIMESTAMP.pattern})(?=\s)|\[[^\[\]]*\d[^\[\]]*\]:?",
    Kind.BRACKET: r"\[(?:[^\[\]]|\[[^\[\]]*\])*\]:?|\((?:[^()]|\([^()]*\))*\):?|<[^<>]*>:?",
}


_RUN = re.compile(r"\d+|[A-Za-z]+|\s+|.")
MAX_SHAPES = 4


def _shape(text: str) -> str:
    """A pattern for fields that look like `text`: digit runs, letter runs and spaces vary."""
    parts = []
    for run in _RUN.findall(text):
        if run[0].isdigit():
            parts.append(r"\d+")
        elif run[0].isalpha():
            parts.append("[A-Za-z]+")
        elif run[0].isspace():
            parts.append(r"\s+")
        else:
            parts.append(re.escape(run))
    return "".join(parts)


def _layout_pattern(
    parsed: Sequence[list[tuple[str, Kind]]], header_fields: int
) -> re.Pattern[str] | None:
    r"""One regular expression for the learned header, so most lines need a single match.

    A position where the learning lines show few shapes (`\d+-\d+-\d+`) accepts those shapes;
    otherwise it accepts the kinds seen there. A line the pattern does not fit falls back to
    field-by-field parsing."""
    if header_fields == 0:
        return None
    kinds: list[set[Kind]] = [set() for _ in range(header_fields)]
    shapes: list[set[str]] = [set() for _ in range(header_fields)]
    for found in parsed:
        if len(found) >= header_fields and found[header_fields - 1][1] in ENDS_HEADER:
            for position, (text, kind) in enumerate(found[:header_fields]):
                kinds[position].add(kind)
                shapes[position].add(_shape(text))
    parts = []
    for allowed, seen in zip(kinds, shapes, strict=True):
        if 0 < len(seen) <= MAX_SHAPES:
            parts.append(f"(?:{'|'.join(sorted(seen, key=lambda p: (-len(p), p)))})")
        elif Kind.WORD in allowed:
            parts.append(r"\S+")
        else:
            ordered = sorted(allowed, key=lambda k: k.value)
            parts.append(f"(?x:{'|'.join(_KIND_PATTERNS[k] for k in ordered)})")
    return re.compile(r"\s*" + r"\s+".join(parts) + r"(?=\s|$)")


def strip_header(line: str, header_fields: int, layout: re.Pattern[str] | None = None) -> str:
    """The message of `line`: what follows its header (the longest candidate up to the learned)."""
    if layout is not None:
        match = layout.match(line)
        if match is not None:
            return line[match.end() :].strip()
    offset = max(off for count, off in candidate_ends(line) if count <= header_fields)
    return line[offset:].strip()


@dataclass
class HeaderStripper:
    """Strips headers from a stream of lines, learning the header from its first lines."""

    learning_lines: int = LEARNING_LINES
    header_fields: int | None = None
    _layout: re.Pattern[str] | None = None
    _pending: list[str] = field(default_factory=list)

    def messages(self, lines: Iterable[str]) -> Iterator[str]:
        """Yield the message of every line, in order; memory is bounded by `learning_lines`."""
        for line in lines:
            if self.header_fields is not None:
                yield strip_header(line, self.header_fields, self._layout)
                continue
            self._pending.append(line)
            if len(self._pending) >= self.learning_lines:
                yield from self._flush()
        if self.header_fields is None:
            yield from self._flush()

    def _flush(self) -> Iterator[str]:
        pending, self._pending = self._pending, []
        self.header_fields, self._layout = learn_header(pending)
        for line in pending:
            yield strip_header(line, self.header_fields, self._layout)
