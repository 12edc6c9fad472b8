"""Plain text logs, read with a regular expression or a `<Date> <Time> <Level> <Content>` format.

A format names fields in angle brackets; everything between them is literal, and runs of spaces
match any run of white space. Field names are matched case-insensitively: `Date` and `Time` (or
`Timestamp`) make the timestamp, `Level` the level, `Content` or `Message` the message, and
`Source`, `Component` or `Service` the source; other fields become attributes. A regular
expression uses the same names as named groups. A line that does not read as a record but follows
one continues its message (multi-line stack traces), unless it starts with a date: then it is a
broken record, malformed, as is any unreadable line before the first record.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ops_monitor.analysis.headers import starts_dated
from ops_monitor.ingest.lines import logical_lines
from ops_monitor.ingest.malformed import MalformedLines
from ops_monitor.ingest.normalise import BadRecord, level_of, timestamp_of, trusted_record
from ops_monitor.models import LogRecord

DEFAULT_FORMAT = "<Date> <Time> <Level> <Content>"
_FIELD = re.compile(r"<(\w+)>")
_MESSAGE = ("content", "message", "msg")
_SOURCE = ("source", "component", "service", "worker")
_EXTRA_DATE_FORMATS = (
    "%d/%b/%Y:%H:%M:%S %z",
    "%Y/%m/%d %H:%M:%S",
    "%b %d %H:%M:%S",
    "%y%m%d %H%M%S",
)


MAX_MESSAGE_CHARS = 65_536  # a record with its continuation lines; bounds memory per record
_SYSLOG_SKEW = timedelta(days=1)


class PatternError(ValueError):
    """A format or regular expression that cannot read log lines; the text says why."""


def compile_format(spec: str) -> re.Pattern[str]:
    """A `<Field> <Field>` format, or a regular expression with named groups."""
    if _FIELD.search(spec) and "(?P<" not in spec:
        names = _FIELD.findall(spec)
        literals = _FIELD.split(spec)[::2]
        pattern = ""
        for index, name in enumerate(names):
            pattern += r"\s+".join(re.escape(part) for part in literals[index].split(" "))
            last = index == len(names) - 1
            pattern += f"(?P<{name}>.*)" if last else f"(?P<{name}>.*?)"
        pattern += re.escape(literals[-1])
        spec = "^" + pattern + "$"
    try:
        compiled = re.compile(spec)
    except re.error as error:
        raise PatternError(f"--pattern: not a valid regular expression: {error}") from error
    groups = {name.lower() for name in compiled.groupindex}
    if not groups & set(_MESSAGE):
        raise PatternError("--pattern: needs a <Content> (or <Message>) field")
    if not groups & {"date", "time", "timestamp"}:
        raise PatternError("--pattern: needs a <Date>/<Time> (or <Timestamp>) field")
    return compiled


def _parse_time(text: str, now: datetime) -> datetime:
    try:
        return timestamp_of(text)
    except BadRecord:
        pass
    for layout in _EXTRA_DATE_FORMATS:
        try:
            moment = datetime.strptime(text, layout)
        except ValueError:
            continue
        if moment.year == 1900:  # syslog dates have no year: the latest one not in the future
            moment = moment.replace(year=now.year)
            if moment > now.replace(tzinfo=None) + _SYSLOG_SKEW:  # "Dec 31" read on 1 January
                moment = moment.replace(year=now.year - 1)
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    raise BadRecord(f"timestamp: not a date: {text!r}")


@dataclass
class _Pending:
    """A record read from its first line, held until the lines after it show whether they
    continue its message (a stack trace) or start the next record."""

    line_no: int
    when: datetime
    source: str
    level: str
    message: list[str]
    attributes: dict[str, str]
    chars: int

    def record(self) -> LogRecord:
        message = self.message[0] if len(self.message) == 1 else "\n".join(self.message)
        return trusted_record(self.when, self.source, self.level, message, self.attributes)


def _continues(line: str) -> bool:
    """Whether a line that is not a record continues the one before it: an indented line (a
    stack frame), or one that does not start like a dated record. A line that starts like one
    (the same test raw mode's header detection uses) and does not read is malformed."""
    return line[:1].isspace() or not starts_dated(line)


def read_text(
    lines: Iterable[str],
    malformed: MalformedLines,
    *,
    pattern: re.Pattern[str],
    default_source: str = "unknown",
    now: datetime | None = None,
) -> Iterator[LogRecord]:
    """Records from the lines the pattern reads. A line it cannot read that follows a record
    and does not start with a date (`  at Foo.bar (foo.js:10)`, `Caused by: ...`) is part of
    that record's message, joined with a newline, up to MAX_MESSAGE_CHARS; any other line that
    does not read is malformed. `now` (default: the system clock) dates syslog lines, which
    carry no year."""
    names = {name.lower(): name for name in pattern.groupindex}
    message_key = next(names[k] for k in _MESSAGE if k in names)
    source_key = next((names[k] for k in _SOURCE if k in names), None)
    level_key = names.get("level")
    time_keys = [names[k] for k in ("timestamp", "date", "time") if k in names]
    used = {message_key, source_key, level_key, *time_keys}
    now = now or datetime.now(UTC)
    pending: _Pending | None = None
    for line_no, raw in enumerate(logical_lines(lines), start=1):
        line = raw.rstrip("\r\n")
        if not line.strip():
            continue
        found = pattern.match(line)
        reason = "does not match the pattern"
        if found is not None:
            fields = found.groupdict()
            stamp = " ".join(fields[key] for key in time_keys if fields.get(key))
            try:
                when = _parse_time(stamp, now)
            except BadRecord as error:
                reason = str(error)
            else:
                if pending is not None:
                    malformed.line = pending.line_no
                    yield pending.record()
                source = fields.get(source_key) if source_key else None
                message = fields[message_key].strip()
                pending = _Pending(
                    line_no,
                    when,
                    source.strip() if source else default_source,
                    level_of(fields.get(level_key) if level_key else None),
                    [message],
                    {k: v for k, v in fields.items() if k not in used and v is not None},
                    len(message),
                )
                continue
        if pending is None or not _continues(line):
            malformed.add(line_no, reason, line)
        elif pending.chars + len(line) > MAX_MESSAGE_CHARS:
            malformed.add(
                line_no,
                f"continues the record of line {pending.line_no} past "
                f"{MAX_MESSAGE_CHARS} characters",
                line,
            )
        else:
            pending.message.append(line.rstrip())
            pending.chars += len(line) + 1
    if pending is not None:
        malformed.line = pending.line_no
        yield pending.record()
