"""Turn a pushed body (a JSON array, or NDJSON) into log records, counting what does not parse.

A pushed record is read exactly like a line of a JSON-lines file (`ops_monitor.ingest`): a
`message` and a `timestamp` (ISO 8601, or a Unix epoch in seconds or milliseconds) under their
common spellings, optionally `source`, `level` and `attributes`. A bad record is counted and a few
are kept as samples; it never rejects the batch, so one broken producer line costs one line.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ops_monitor.ingest.malformed import MalformedLines
from ops_monitor.ingest.normalise import BadRecord, record_from_object
from ops_monitor.models import LogRecord

MAX_SAMPLES = 5
DEFAULT_SOURCE = "http"


class NotAnArray(ValueError):
    """A body declared as JSON is not a JSON array of records."""


@dataclass
class Batch:
    records: list[LogRecord] = field(default_factory=list)
    malformed: MalformedLines = field(default_factory=lambda: MalformedLines(keep=MAX_SAMPLES))


def to_record(item: Any) -> LogRecord:
    """One pushed object as a `LogRecord`, read exactly as a JSON-lines file would be (the same
    key spellings, levels and clocks); raises `BadRecord` naming the field."""
    return record_from_object(item, DEFAULT_SOURCE)


def _add(batch: Batch, number: int, item: Any, raw: bytes | None = None) -> None:
    try:
        batch.records.append(to_record(item))
    except BadRecord as error:
        text = raw.decode("utf-8", errors="replace") if raw is not None else json.dumps(item)
        batch.malformed.add(number, str(error), text)


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
    except ValueError:
        return None
    return items if len(items) == len(lines) else None  # catches a line like `1, 2`


def parse_ndjson(body: bytes) -> Batch:
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
        except ValueError as error:
            text = line.decode("utf-8", errors="replace")
            batch.malformed.add(number, f"not JSON ({error.__class__.__name__})", text)
            continue
        _add(batch, number, item, line)
    return batch


def parse_json_array(body: bytes) -> Batch:
    try:
        items = json.loads(body)
    except ValueError as error:
        raise NotAnArray(f"body is not valid JSON: {error}") from error
    if not isinstance(items, list):
        raise NotAnArray("body must be a JSON array of records (or send NDJSON)")
    batch = Batch()
    for number, item in enumerate(items, start=1):
        _add(batch, number, item)
    return batch


def parse_body(body: bytes, content_type: str) -> Batch:
    """`application/json` means an array; anything else is read as one JSON object per line."""
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type == "application/json":
        return parse_json_array(body)
    return parse_ndjson(body)
