"""Find where the header of a log line ends, without being told the log's format.

A header is the run of fields a logger puts before the message: timestamps, levels, hosts, pids,
`component:` names, bracketed fields, separators. Formats differ per source, but within one
source every line has the same header, so we learn its length from the first lines:

* each line is cut into fields (whitespace, with a bracketed group kept whole) and each field
  gets a kind (timestamp, level, number, bracket, `name:`, separator, or plain word);
* a header may end after a timestamp, level, bracket, `name:` or separator field; every such
  position in the first fields of a line is a candidate end;
* the header length is the longest candidate shared by nearly all the learning lines. Messages
  vary, so a message-internal `name:` rarely reaches that share, while the true header does;
* fields of no telling shape may follow (a host, a one-letter level, a component): a field is
  taken into the header when the stream shows that it does not belong to the message, that is
  when the same message start follows several of its values. A message's first word decides
  what follows it; a host or a level does not.

Only the lines that open a record are learned from (those starting with the field kind most
lines start with), so stack traces do not outvote them. Lines that do not fit the learned header
lose their longest shorter candidate instead, so an unusual line keeps its message; a line led
by another kind of field keeps its whole text unless the rest of the header fits after that
field (an alert tag before the usual header).
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from enum import Enum

from ops_monitor.analysis.masking import mask_token

LEARNING_LINES = 200
MAX_HEADER_FIELDS = 12
SHARE = 0.9
_START = 3  # fields after a candidate header field that stand for the message's start
_EVIDENCE = 10  # lines with a repeated message start needed before a field is judged


class Kind(Enum):
    """What a header field looks like."""

    TIMESTAMP = "timestamp"
    LEVEL = "level"
    NUMBER = "number"
    BRACKET = "bracket"
    NAME = "name"  # `component:` or `process[pid]:`
    SEPARATOR = "separator"
    WORD = "word"


ENDS_HEADER = frozenset(
    {Kind.TIMESTAMP, Kind.LEVEL, Kind.NUMBER, Kind.BRACKET, Kind.NAME, Kind.SEPARATOR}
)
# After these a header is surely over; after the others, the fields that follow are tested.
CLOSES_HEADER = frozenset({Kind.NAME, Kind.SEPARATOR})
# A field joins the header when at least this share of the lines whose message start repeats
# see that start after more than one of its values.
INDEPENDENT = 0.5
_NUMERIC = re.compile(r"\d+(?:[-/.:,_]\d+)*,?")

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
    | [^\s|]+\|*                         # `|` ends a field, as in `time|component|pid|`
    | \|+
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


_CALENDAR_WORDS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec Mon Tue Wed Thu Fri Sat Sun"
_CALENDAR = frozenset(_CALENDAR_WORDS.split())


def _is_timestamp(text: str) -> bool:
    # Every timestamp form starts with a digit or a calendar word: skip the long pattern early.
    if not (text[:1].isdigit() or text[:3] in _CALENDAR):
        return False
    return _TIMESTAMP.fullmatch(text) is not None


@functools.lru_cache(maxsize=8192)
def kind_of(text: str) -> Kind:
    """Classify one field by its shape alone."""
    if text.endswith("|"):
        return Kind.SEPARATOR
    bare = text.strip("[]<>():,")
    if bare.lower() in _LEVELS:
        return Kind.LEVEL
    if text in _SEPARATORS:
        return Kind.SEPARATOR
    if text[0] in _OPENERS and text.rstrip(":")[-1] == _OPENERS[text[0]]:
        inner = text.rstrip(":")[1:-1].split()
        if inner and any(_is_timestamp(part) for part in inner):
            return Kind.TIMESTAMP
        return Kind.BRACKET
    if _is_timestamp(text):
        return Kind.TIMESTAMP
    if _NUMERIC.fullmatch(text):
        return Kind.NUMBER
    if len(text) > 1 and text.endswith(":") and not text.endswith("::"):
        return Kind.NAME
    return Kind.WORD


def starts_dated(line: str) -> bool:
    """Whether `line` opens the way a dated header does: with a field of digits (a date, a time,
    an epoch), a bracketed timestamp, or a calendar word before a number (`Jun 14`). The text
    ingest tells a new record from a continuation line (a stack frame) by this."""
    found = fields(line, 2)
    if not found:
        return False
    first = found[0][0]
    if first[:1].isdigit() or (first[:1] in _OPENERS and first[1:2].isdigit()):
        return True
    if kind_of(first) is not Kind.TIMESTAMP:
        return False
    if first[:1] in _OPENERS:
        return True
    return len(found) > 1 and found[1][0][:1].isdigit()


def candidate_ends(line: str) -> list[tuple[int, int]]:
    """(fields in the header, offset where the message starts) for each place a header may end."""
    ends = [(0, 0)]
    for index, (text, offset) in enumerate(fields(line), start=1):
        if kind_of(text) in ENDS_HEADER:
            ends.append((index, offset))
    return ends


def learn_header(
    lines: Sequence[str], share: float = SHARE, independent: float = INDEPENDENT
) -> tuple[int, Layout | None]:
    """How many fields the header of these lines has (0 when none), and a pattern for it.

    `share` of the records must agree on where the header ends; a field after it joins the
    header when `independent` of the lines whose message start repeats see it with more than
    one of its values. One setting for every log: the benchmark chooses it on some log types
    and scores it on another."""
    parsed = _records([[(text, kind_of(text)) for text, _ in fields(line)] for line in lines])
    if not parsed:
        return 0, None
    support: Counter[int] = Counter()
    for found in parsed:
        support.update({0, *(i for i, (_, kind) in enumerate(found, 1) if kind in ENDS_HEADER)})
    needed = share * len(parsed)
    shaped = max(count for count, seen in support.items() if seen >= needed)
    closed = shaped == 0 or all(
        len(found) < shaped or found[shaped - 1][1] in CLOSES_HEADER for found in parsed
    )
    header_fields = shaped
    while (
        not closed
        and header_fields < MAX_HEADER_FIELDS - 1
        and _independent(parsed, header_fields, needed, independent)
    ):
        header_fields += 1
    return header_fields, _layout(parsed, shaped, header_fields)


def _records(parsed: list[list[tuple[str, Kind]]]) -> list[list[tuple[str, Kind]]]:
    """The lines that open a record: those whose first field has the kind most lines start
    with. Continuation lines (stack frames, `Caused by:`) carry no header and must not outvote
    the lines that do."""
    starts = Counter(found[0][1] for found in parsed if found)
    if not starts:
        return []
    first, _ = starts.most_common(1)[0]
    return [found for found in parsed if found and found[0][1] is first]


def _independent(
    parsed: Sequence[list[tuple[str, Kind]]], position: int, needed: float, share: float
) -> bool:
    """Whether the field at `position` (0-based) is header rather than message: the message
    start after it (the next few fields, masked) repeats with more than one of its values."""
    after: dict[tuple[str, ...], set[str]] = {}
    lines: Counter[tuple[str, ...]] = Counter()
    present = 0
    for found in parsed:
        if len(found) <= position + 1:
            continue
        present += 1
        start = tuple(mask_token(text) for text, _ in found[position + 1 : position + 1 + _START])
        after.setdefault(start, set()).add(found[position][0])
        lines[start] += 1
    repeated = sum(count for start, count in lines.items() if count > 1)
    varied = sum(count for start, count in lines.items() if len(after[start]) > 1)
    return present >= needed and repeated >= _EVIDENCE and varied >= share * repeated


def learn_header_fields(lines: Sequence[str]) -> int:
    """How many fields the header of these lines has (0 when they have none)."""
    return learn_header(lines)[0]


_KIND_PATTERNS = {
    Kind.LEVEL: rf"[\[(<]?(?i:{'|'.join(sorted(_LEVELS, key=len, reverse=True))})[\])>]?:?",
    Kind.NUMBER: _NUMERIC.pattern,
    Kind.SEPARATOR: "|".join(
        [r"[^\s|]*\|+", *(re.escape(s) for s in sorted(_SEPARATORS, key=len, reverse=True))]
    ),
    Kind.NAME: r"[^\s\[(<{]\S*:",
    Kind.TIMESTAMP: rf"(?:{_TIMESTAMP.pattern})(?=\s)|\[[^\[\]]*\d[^\[\]]*\]:?",
    Kind.BRACKET: r"\[(?:[^\[\]]|\[[^\[\]]*\])*\]:?|\((?:[^()]|\([^()]*\))*\):?|<[^<>]*>:?",
}


MAX_SHAPES = 4
_TO_SHAPE = str.maketrans(
    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", "0" * 10 + "a" * 52
)
_DIGIT_RUNS, _LETTER_RUNS, _SPACE_RUNS = re.compile("0+"), re.compile("a+"), re.compile(r"\s+")
_SHAPE_PIECES = {"0": r"\d+", "a": "[A-Za-z]+", " ": r"\s+"}


def _shape_key(text: str) -> str:
    """`text` with each run of digits, letters or spaces written as one `0`, `a` or space."""
    shape = _DIGIT_RUNS.sub("0", text.translate(_TO_SHAPE))
    return _SPACE_RUNS.sub(" ", _LETTER_RUNS.sub("a", shape))


def _shape_pattern(key: str) -> str:
    return "".join(_SHAPE_PIECES.get(char) or re.escape(char) for char in key)


@dataclass
class Layout:
    """The learned header as patterns: a quick one built from the shapes seen while learning,
    and a broader one from the kinds seen, compiled only when a line needs it."""

    quick: re.Pattern[str]
    broad_source: str
    loose_source: str = ""
    """The broad pattern with any first field: a record led by an odd field (an alert tag)."""
    opens_with: Kind | None = None
    """The kind of field records start with; a line starting otherwise continues a record,
    unless the rest of its header fits (`loose_source`)."""
    _broad: re.Pattern[str] | None = None
    _loose: re.Pattern[str] | None = None

    def message_start(self, line: str) -> int | None:
        """Offset where the message of `line` starts, or None when neither pattern fits."""
        match = self.quick.match(line)
        if match is None:
            if self._broad is None:
                self._broad = re.compile(self.broad_source)
            match = self._broad.match(line)
        return None if match is None else match.end()

    def odd_start(self, line: str) -> int | None:
        """Offset where the message starts for a line whose first field is of another kind
        than the records' (an alert tag), or None for a line with no header (a stack frame)."""
        if self._loose is None:
            self._loose = re.compile(self.loose_source)
        match = self._loose.match(line)
        return None if match is None else match.end()


def _kinds_pattern(allowed: set[Kind]) -> str:
    if Kind.WORD in allowed:
        return r"\S+"
    ordered = sorted(allowed, key=lambda k: k.value)
    return f"(?x:{'|'.join(_KIND_PATTERNS[k] for k in ordered)})"


def _layout(
    parsed: Sequence[list[tuple[str, Kind]]], shaped: int, header_fields: int
) -> Layout | None:
    r"""Patterns for the learned header, so most lines need a single short match.

    `shaped` fields end where the field kinds put the end; the fields after them, up to
    `header_fields`, joined the header on the stream's evidence. A position where the learning
    lines show few shapes (`\d+-\d+-\d+`) accepts those shapes in the quick pattern; otherwise,
    and in the broad pattern, it accepts the kinds seen there. A line neither fits falls back to
    field-by-field parsing."""
    if header_fields == 0:
        return None
    kinds: list[set[Kind]] = [set() for _ in range(header_fields)]
    shapes: list[set[str]] = [set() for _ in range(header_fields)]
    piped = [True] * header_fields
    for found in parsed:
        if len(found) >= header_fields and found[shaped - 1][1] in ENDS_HEADER:
            for position, (text, kind) in enumerate(found[:header_fields]):
                kinds[position].add(kind)
                shapes[position].add(_shape_key(text))
                piped[position] = piped[position] and text.endswith("|")
    quick, broad = [], []
    for allowed, seen in zip(kinds, shapes, strict=True):
        broad.append(f"(?:{_kinds_pattern(allowed)})")
        if len(seen) <= MAX_SHAPES:
            ordered = sorted(seen, key=lambda k: (-len(k), k))
            quick.append(f"(?:{'|'.join(_shape_pattern(k) for k in ordered)})")
        else:
            quick.append(broad[-1])

    def whole(parts: list[str]) -> str:
        pattern = r"\s*"
        for position, part in enumerate(parts):
            if position:
                pattern += r"\s*" if piped[position - 1] else r"\s+"
            pattern += part
        return pattern + ("" if piped[-1] else r"(?=\s|$)")

    opens_with = next(iter(kinds[0])) if len(kinds[0]) == 1 else None
    return Layout(re.compile(whole(quick)), whole(broad), whole([r"\S+", *broad[1:]]), opens_with)


def strip_header(line: str, header_fields: int, layout: Layout | None = None) -> str:
    """The message of `line`: what follows its header (the longest candidate up to the learned)."""
    if layout is not None:
        start = layout.message_start(line)
        if start is not None:
            return line[start:].strip()
        if layout.opens_with is not None:
            first = fields(line, 1)
            if not first or line[:1].isspace() or kind_of(first[0][0]) is not layout.opens_with:
                start = None if line[:1].isspace() else layout.odd_start(line)
                # a line whose header does not fit after its first field continues a record
                return line[start or 0 :].strip()
    offset = max(off for count, off in candidate_ends(line) if count <= header_fields)
    return line[offset:].strip()


@dataclass
class HeaderStripper:
    """Strips headers from a stream of lines, learning the header from its first lines."""

    learning_lines: int = LEARNING_LINES
    share: float = SHARE
    independent: float = INDEPENDENT
    header_fields: int | None = None
    _layout: Layout | None = None
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
        self.header_fields, self._layout = learn_header(pending, self.share, self.independent)
        for line in pending:
            yield strip_header(line, self.header_fields, self._layout)
