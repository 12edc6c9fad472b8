"""Turn a pushed body (a JSON array, or NDJSON) into log records, counting what does not parse.

A pushed record is read exactly like a line of a JSON-lines file (`ops_monitor.ingest`): a
`message` and a `timestamp` (ISO 8601, or a Unix epoch in seconds or milliseconds) under their
common spellings, optionally `source`, `level` and `attributes`. A bad record is counted and a few
are kept as samples; it never rejects the batch, so one broken producer line costs one line.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ops_monitor.ingest.malformed import MalformedLines
from ops_monitor.ingest.normalise import BadRecord, record_from_object
from ops_monitor.models import LogRecord

MAX_SAMPLES = 5
DEFAULT_SOURCE = "http"
TOO_DEEP = "nested too deeply"


class NotAnArray(ValueError):
    """A body that cannot be a batch: empty, or declared as JSON and not a JSON array."""


@dataclass
class Batch:
    records: list[LogRecord] = field(default_factory=list)
    malformed: MalformedLines = field(default_factory=lambda: MalformedLines(keep=MAX_SAMPLES))
    numbers: list[int] = field(default_factory=list)  # each record's line or array position

    def stream(self) -> Iterator[LogRecord]:
        """The records, each announced at its own number, so one the service refuses (say, a
        timestamp out of bounds) is sampled at the line the producer sent it on."""
        for number, record in zip(self.numbers, self.records, strict=True):
            self.malformed.line = number
            yield record


def to_record(item: Any) -> LogRecord:
    """One pushed object as a `LogRecord`, read exactly as a JSON-lines file would be (the same
    key spellings, levels and clocks); raises `BadRecord` naming the field."""
    return record_from_object(item, DEFAULT_SOURCE)


def _add(batch: Batch, number: int, item: Any, raw: bytes | None = None) -> None:
    try:
        batch.records.append(to_record(item))
    except (BadRecord, RecursionError) as error:
        reason = str(error) if isinstance(error, BadRecord) else f"a value is {TOO_DEEP}"
        batch.malformed.add(number, reason, _sample(item, raw))
    else:
        batch.numbers.append(number)


def _sample(item: Any, raw: bytes | None) -> str:
    if raw is not None:
        return raw.decode("utf-8", errors="replace")
    try:
        return json.dumps(item)
    except RecursionError:
        return f"({type(item).__name__} {TOO_DEEP} to show)"


def _ndjson_lines(body: bytes) -> list[tuple[int, bytes]]:
    return [
        (number, text)
        for number, line in enumerate(body.split(b"\n"), start=1)
        if (text := line.strip())
    ]


def _all_at_once(lines: list[tuple[int, bytes]]) -> list[Any] | None:
    """Decode every line in one call (the common, all-valid case is several times faster than
    a call per line); `None` when any line is not a single JSON value."""
    try:
        items = json.loads(b"[" + b",".join(text for _, text in lines) + b"]")
    except (ValueError, RecursionError):
        return None
    return items if len(items) == len(lines) else None  # catches a line like `1, 2`


def parse_ndjson(body: bytes) -> Batch:
    """One JSON value per line; a line that is not one (bad JSON, or JSON nested too deeply to
    parse) is malformed, and costs that line only."""
    batch = Batch()
    lines = _ndjson_lines(body)
    items = _all_at_once(lines)
    if items is not None:
        for (number, line), item in zip(lines, items, strict=True):
            _add(batch, number, item, line)
        return batch
    for number, line in lines:
        try:
            item = json.loads(line)
        except (ValueError, RecursionError) as error:
            text = line.decode("utf-8", errors="replace")
            why = TOO_DEEP if isinstance(error, RecursionError) else error.__class__.__name__
            batch.malformed.add(number, f"not JSON ({why})", text)
            continue
        _add(batch, number, item, line)
    return batch


def parse_json_array(body: bytes) -> Batch:
    try:
        items = json.loads(body)
    except ValueError as error:
        raise NotAnArray(f"body is not valid JSON: {error}") from error
    except RecursionError:
        raise NotAnArray(f"body is not valid JSON: {TOO_DEEP} to parse") from None
    if not isinstance(items, list):
        raise NotAnArray("body must be a JSON array of records (or send NDJSON)")
    batch = Batch()
    for number, item in enumerate(items, start=1):
        _add(batch, number, item)
    return batch


def parse_body(body: bytes, content_type: str) -> Batch:
    """`application/json` means an array; anything else is read as one JSON object per line.
    An empty body is refused: it is a producer's mistake (or a probe), not an empty batch."""
    if not body.strip():
        raise NotAnArray("body: empty; send a JSON array of records, or NDJSON")
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type == "application/json":
        return parse_json_array(body)
    return parse_ndjson(body)
