"""Plain text logs, read with a regular expression or a `<Date> <Time> <Level> <Content>` format.

A format names fields in angle brackets; everything between them is literal, and runs of spaces
match any run of white space. Field names are matched case-insensitively: `Date` and `Time` (or
`Timestamp`) make the timestamp, `Level` the level, `Content` or `Message` the message, and
`Source`, `Component` or `Service` the source; other fields become attributes. A regular
expression uses the same names as named groups. A line that does not match, or whose date does
not parse, is malformed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime

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
        if moment.year == 1900:  # syslog dates have no year: assume this year
            moment = moment.replace(year=now.year)
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    raise BadRecord(f"timestamp: not a date: {text!r}")


def read_text(
    lines: Iterable[str],
    malformed: MalformedLines,
    *,
    pattern: re.Pattern[str],
    default_source: str = "unknown",
) -> Iterator[LogRecord]:
    names = {name.lower(): name for name in pattern.groupindex}
    message_key = next(names[k] for k in _MESSAGE if k in names)
    source_key = next((names[k] for k in _SOURCE if k in names), None)
    level_key = names.get("level")
    time_keys = [names[k] for k in ("timestamp", "date", "time") if k in names]
    used = {message_key, source_key, level_key, *time_keys}
    now = datetime.now(UTC)
    for line_no, raw in enumerate(lines, start=1):
        line = raw.rstrip("\r\n")
        if not line.strip():
            continue
        found = pattern.match(line)
        if found is None:
            malformed.add(line_no, "does not match the pattern", line)
            continue
        fields = found.groupdict()
        stamp = " ".join(fields[key] for key in time_keys if fields.get(key))
        try:
            when = _parse_time(stamp, now)
        except BadRecord as error:
            malformed.add(line_no, str(error), line)
            continue
        source = fields.get(source_key) if source_key else None
        yield trusted_record(
            when,
            source.strip() if source else default_source,
            level_of(fields.get(level_key) if level_key else None),
            fields[message_key].strip(),
            {k: v for k, v in fields.items() if k not in used and v is not None},
        )
