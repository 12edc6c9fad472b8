"""`wrangler tail --format json`: one Workers trace event per request or cron run.

An event carries `scriptName`, `outcome` (`ok`, `exception`, `exceededCpu`, `exceededWallTime`,
`exceededMemory`, `canceled`, ...), `eventTimestamp` (epoch ms), the triggering `event`
(`request` with url and method, `response` with status, or `cron`), and arrays of `logs`
(`{level, message: [parts], timestamp}`) and `exceptions` (`{name, message, timestamp}`).
Wrangler prints events either one per line or pretty-printed over several lines; both read.

Each event becomes one record for the invocation itself (carrying the outcome and durations the
performance rules read), plus one per console log and one per exception.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from ops_monitor.ingest.lines import logical_lines
from ops_monitor.ingest.malformed import MalformedLines
from ops_monitor.ingest.normalise import BadRecord, level_of, timestamp_of, trusted_record
from ops_monitor.models import LogRecord

MAX_EVENT_CHARS = 1_000_000  # a multi-line event larger than this is dropped as malformed
# Limit outcomes are warnings here: the `limit-exceeded` rule files them as performance issues,
# and an error level would file each one a second time as a stability issue.
_FAILED_OUTCOMES = {
    "exception": "error",
    "exceededCpu": "warning",
    "exceededWallTime": "warning",
    "exceededMemory": "warning",
    "canceled": "warning",
}


def is_tail_event(item: Any) -> bool:
    return (
        isinstance(item, dict)
        and "eventTimestamp" in item
        and ("logs" in item or "exceptions" in item or "outcome" in item)
    )


def _text(parts: Any) -> str:
    if isinstance(parts, list):
        return " ".join(p if isinstance(p, str) else json.dumps(p, default=str) for p in parts)
    return parts if isinstance(parts, str) else json.dumps(parts, default=str)


def _invocation(event: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """A one-line description of what ran, and the attributes that describe it."""
    found = event.get("event")
    trigger: dict[str, Any] = found if isinstance(found, dict) else {}
    attributes: dict[str, Any] = {}
    request = trigger.get("request") if isinstance(trigger.get("request"), dict) else None
    if request is not None:
        method, url = request.get("method", "GET"), request.get("url", "")
        attributes.update(method=method, url=url)
        response = trigger.get("response")
        if isinstance(response, dict) and "status" in response:
            attributes["status"] = response["status"]
        what = f"{method} {url}"
    elif "cron" in trigger:
        attributes["cron"] = trigger["cron"]
        what = f"cron {trigger['cron']}"
    else:
        what = "invocation"
    return what, attributes


def records_of_event(event: dict[str, Any]) -> Iterator[LogRecord]:
    """The records one tail event stands for; raises BadRecord for an unusable event."""
    if not isinstance(event, dict):
        raise BadRecord("not a JSON object")
    when = timestamp_of(event.get("eventTimestamp"))
    source = str(event.get("scriptName") or "unknown-worker")
    outcome = str(event.get("outcome") or "unknown")
    what, attributes = _invocation(event)
    for key in ("wallTime", "cpuTime"):
        if isinstance(event.get(key), int | float):
            attributes[key] = event[key]
    attributes["outcome"] = outcome
    status = attributes.get("status")
    level = _FAILED_OUTCOMES.get(outcome, "info")
    if isinstance(status, int) and status >= 500 and level == "info":
        level = "error"
    yield trusted_record(
        when,
        source,
        level,
        f"{what} -> {outcome}",
        attributes,
    )
    context = {"event_outcome": outcome}
    for entry in event.get("logs") or []:
        if not isinstance(entry, dict):
            raise BadRecord("logs: an entry is not an object")
        yield trusted_record(
            timestamp_of(entry.get("timestamp", event["eventTimestamp"])),
            source,
            level_of(entry.get("level")),
            _text(entry.get("message", "")),
            context,
        )
    for entry in event.get("exceptions") or []:
        if not isinstance(entry, dict):
            raise BadRecord("exceptions: an entry is not an object")
        name = entry.get("name") or "Error"
        yield trusted_record(
            timestamp_of(entry.get("timestamp", event["eventTimestamp"])),
            source,
            "error",
            f"{name}: {_text(entry.get('message', ''))}",
            {**context, "exception": name},
        )


def read_wrangler(lines: Iterable[str], malformed: MalformedLines) -> Iterator[LogRecord]:
    """Events one per line, or pretty-printed (an event ends at a `}` in the first column).

    An event starts at a line beginning with `{`. Anything else between events (wrangler's own
    messages, such as "Connected to api-worker, waiting for logs...") is one malformed line, and
    an event cut off before its end is malformed up to the next line starting with `{`: the
    reader re-synchronises there, so the events after a bad line are still read."""
    pending: list[str] = []
    pending_chars = 0
    start_line = 0
    for line_no, line in enumerate(logical_lines(lines), start=1):
        if pending and line.startswith("{"):  # a new event while the last one is unfinished
            yield from _decode("".join(pending), start_line, malformed)
            pending, pending_chars = [], 0
        if not pending:
            if not line.strip():
                continue
            if not line.lstrip().startswith("{"):
                malformed.add(line_no, "not a JSON event (text between events)", line)
                continue
            start_line = line_no
        pending.append(line)
        pending_chars += len(line)
        complete = not line.startswith((" ", "\t")) and line.rstrip().endswith("}")
        if not complete and pending_chars < MAX_EVENT_CHARS:
            continue
        text = "".join(pending)
        pending, pending_chars = [], 0
        yield from _decode(text, start_line, malformed)
    if pending:
        yield from _decode("".join(pending), start_line, malformed)


def _decode(text: str, line_no: int, malformed: MalformedLines) -> Iterator[LogRecord]:
    try:
        event = json.loads(text)
    except ValueError as error:  # JSONDecodeError, or an integer of too many digits
        reason = error.msg if isinstance(error, json.JSONDecodeError) else str(error)
        malformed.add(line_no, f"not a JSON event ({reason})", text)
        return
    except RecursionError:
        malformed.add(line_no, "not a JSON event (nested too deeply)", text)
        return
    try:
        records = list(records_of_event(event))
    except BadRecord as error:
        malformed.add(line_no, str(error), text)
        return
    except RecursionError:  # a log message part too deep to print as text
        malformed.add(line_no, "a value is nested too deeply", text)
        return
    malformed.line = line_no
    yield from records
