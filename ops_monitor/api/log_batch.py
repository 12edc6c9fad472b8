"""Turn a pushed body (a JSON array, or NDJSON) into log records, counting what does not parse.

A pushed record is an object with `message` and `timestamp` (ISO 8601, or a Unix epoch in seconds
or milliseconds), and optionally `source`, `level` and `attributes`. A bad record is counted and a
few are kept as samples; it never rejects the batch, so one broken producer line costs one line.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ops_monitor.ingest.malformed import MalformedLines
from ops_monitor.models import LogRecord

MAX_SAMPLES = 5
DEFAULT_SOURCE = "http"
DEFAULT_LEVEL = "info"
_EPOCH_MS_THRESHOLD = 10**11  # larger numbers are milliseconds (10**11 s is in the year 5138)


class NotAnArray(ValueError):
    """A body declared as JSON is not a JSON array of records."""


@dataclass
class Batch:
    records: list[LogRecord] = field(default_factory=list)
    malformed: MalformedLines = field(default_factory=lambda: MalformedLines(keep=MAX_SAMPLES))


def _timestamp(value: Any) -> datetime:
    if isinstance(value, bool):
        raise TypeError("timestamp must be a string or a number")
    if isinstance(value, int | float):
        seconds = value / 1000 if abs(value) >= _EPOCH_MS_THRESHOLD else value
        return datetime.fromtimestamp(seconds, UTC)
    if isinstance(value, str):
        parsed = datetime.fromisoformat(value)
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    raise TypeError("timestamp must be a string or a number")


def to_record(item: Any) -> LogRecord:
    """One pushed object as a `LogRecord`; raises `ValueError`/`TypeError` naming the field."""
    if not isinstance(item, dict):
        raise TypeError("record must be a JSON object")
    message = item.get("message")
    if not isinstance(message, str):
        raise TypeError("message must be a string")
    if "timestamp" not in item:
        raise ValueError("timestamp is missing")
    source = item.get("source", DEFAULT_SOURCE)
    level = item.get("level", DEFAULT_LEVEL)
    attributes = item.get("attributes", {})
    if not isinstance(source, str) or not isinstance(level, str):
        raise TypeError("source and level must be strings")
    if not isinstance(attributes, dict):
        raise TypeError("attributes must be an object")
    try:
        timestamp = _timestamp(item["timestamp"])
    except (ValueError, OverflowError, OSError) as error:
        raise ValueError(f"timestamp is not a date: {error}") from error
    return LogRecord(  # validating is cheaper than model_construct here
        timestamp=timestamp,
        source=source,
        level=level.lower(),
        message=message,
        attributes=attributes,
    )


def _add(batch: Batch, number: int, item: Any, raw: bytes | None = None) -> None:
    try:
        batch.records.append(to_record(item))
    except (TypeError, ValueError) as error:
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
