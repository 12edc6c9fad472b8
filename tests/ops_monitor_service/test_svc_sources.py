"""Ingest sources on real input text: JSON lines, wrangler tail events, plain text; malformed
lines are counted and sampled, never fatal."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from ops_monitor.ingest.jsonl import read_jsonl
from ops_monitor.ingest.malformed import MalformedLines
from ops_monitor.ingest.normalise import BadRecord, level_of, record_from_object, timestamp_of
from ops_monitor.ingest.text import PatternError, compile_format, read_text
from ops_monitor.ingest.wrangler import read_wrangler, records_of_event

EVENT = {
    "scriptName": "checkout-worker",
    "outcome": "exception",
    "eventTimestamp": 1717243200000,
    "wallTime": 1840,
    "cpuTime": 12,
    "event": {
        "request": {"url": "https://shop.example/cart", "method": "POST"},
        "response": {"status": 500},
    },
    "logs": [
        {"level": "log", "message": ["cart", {"items": 3}], "timestamp": 1717243200001},
        {"level": "warn", "message": ["slow upstream"], "timestamp": 1717243200002},
    ],
    "exceptions": [
        {"name": "TypeError", "message": "cart is undefined", "timestamp": 1717243200003}
    ],
}


def test_jsonl_normalises_common_keys_and_keeps_the_rest_as_attributes() -> None:
    lines = [
        json.dumps(
            {
                "ts": "2024-06-01T12:00:00Z",
                "severity": "WARN",
                "msg": "disk 91%",
                "service": "db",
                "host": "db-1",
            }
        ),
        json.dumps({"time": 1717243200, "message": "boot", "attributes": {"pid": 7}}),
        "",
    ]
    malformed = MalformedLines()

    first, second = read_jsonl(lines, malformed, default_source="fallback")

    assert first.timestamp == datetime(2024, 6, 1, 12, tzinfo=UTC)
    assert (first.source, first.level, first.message) == ("db", "warning", "disk 91%")
    assert first.attributes == {"host": "db-1"}
    assert (second.source, second.level, second.attributes) == ("fallback", "info", {"pid": 7})
    assert malformed.count == 0


def test_jsonl_counts_and_samples_malformed_lines_without_stopping() -> None:
    lines = [
        "{not json",
        '{"message": "no time"}',
        '["a list"]',
        '{"timestamp": "yesterday", "message": "x"}',
        '{"timestamp": 1717243200000, "message": "fine"}',
        '{"timestamp": 1, "message": "two values"} {}',
    ]
    malformed = MalformedLines(keep=3)

    found = list(read_jsonl(lines, malformed))

    assert [r.message for r in found] == ["fine"]
    assert found[0].timestamp == datetime(2024, 6, 1, 12, tzinfo=UTC)  # epoch milliseconds
    assert malformed.count == 5
    assert malformed.samples[0].startswith("line 1: not JSON")
    assert malformed.samples[1] == 'line 2: timestamp: missing: {"message": "no time"}'
    assert len(malformed.samples) == 3


def test_a_tail_event_becomes_an_invocation_record_plus_its_logs_and_exceptions() -> None:
    invocation, log, warn, exception = records_of_event(EVENT)

    assert invocation.message == "POST https://shop.example/cart -> exception"
    assert invocation.level == "error"
    assert invocation.attributes["outcome"] == "exception"
    assert invocation.attributes["wallTime"] == 1840
    assert invocation.attributes["status"] == 500
    assert invocation.source == "checkout-worker"
    assert (log.level, log.message) == ("info", 'cart {"items": 3}')
    assert warn.level == "warning"
    assert (exception.level, exception.message) == ("error", "TypeError: cart is undefined")
    assert exception.timestamp == datetime(2024, 6, 1, 12, 0, 0, 3000, tzinfo=UTC)


def test_wrangler_reads_pretty_printed_and_one_line_events_and_skips_broken_ones() -> None:
    cron = {
        "scriptName": "nightly",
        "outcome": "exceededCpu",
        "eventTimestamp": 1717243200000,
        "event": {"cron": "0 2 * * *"},
        "logs": [],
        "exceptions": [],
    }
    text = json.dumps(EVENT, indent=2) + "\n" + json.dumps(cron) + "\n{broken\n"
    malformed = MalformedLines()

    found = list(read_wrangler(text.splitlines(keepends=True), malformed))

    assert len(found) == 5
    assert found[-1].message == "cron 0 2 * * * -> exceededCpu"
    assert found[-1].level == "warning"
    assert malformed.count == 1
    assert malformed.samples[0].startswith("line ")


def test_wrangler_event_with_bad_entries_is_malformed() -> None:
    bad = dict(EVENT, logs=["not an object"])
    malformed = MalformedLines()
    assert list(read_wrangler([json.dumps(bad) + "\n"], malformed)) == []
    assert malformed.count == 1
    with pytest.raises(BadRecord):
        list(records_of_event(dict(EVENT, exceptions=[1])))


def test_jsonl_expands_tail_events_too() -> None:
    found = list(read_jsonl([json.dumps(EVENT)], MalformedLines()))
    assert len(found) == 4


def test_text_with_a_field_format() -> None:
    pattern = compile_format("<Date> <Time> <Level> <Component>: <Content>")
    lines = [
        "garbage\n",  # before any record; after one it would continue that record's message
        "2024-06-01 12:00:00,123 ERROR db.pool: connection refused to 10.0.0.1\n",
        "2024-13-45 99:00:00 INFO x: bad date\n",
    ]
    malformed = MalformedLines()

    [record] = read_text(lines, malformed, pattern=pattern)

    assert record.timestamp == datetime(2024, 6, 1, 12, 0, 0, 123000, tzinfo=UTC)
    assert (record.level, record.source) == ("error", "db.pool")
    assert record.message == "connection refused to 10.0.0.1"
    assert malformed.count == 2


def test_text_with_a_regex_and_a_syslog_date() -> None:
    pattern = compile_format(r"^(?P<Date>\w{3} +\d+ [\d:]+) (?P<Source>\S+): (?P<Content>.*)$")
    [record] = read_text(
        ["Jun  1 12:00:00 sshd: Accepted key\n"], MalformedLines(), pattern=pattern
    )
    assert (record.timestamp.month, record.timestamp.day, record.timestamp.hour) == (6, 1, 12)
    assert (record.source, record.level) == ("sshd", "info")


@pytest.mark.parametrize(
    ("spec", "problem"),
    [
        ("(unclosed", "not a valid regular expression"),
        ("<Date> <Time> <Level>", "needs a <Content>"),
        ("<Level> <Content>", "needs a <Date>/<Time>"),
    ],
)
def test_bad_patterns_are_explained(spec: str, problem: str) -> None:
    with pytest.raises(PatternError, match=problem):
        compile_format(spec)


def test_levels_and_timestamps_normalise() -> None:
    assert [level_of(x) for x in ("WARN", "fatal", "Err", None, "custom")] == [
        "warning",
        "critical",
        "error",
        "info",
        "custom",
    ]
    assert timestamp_of("2024-06-01T14:00:00+02:00") == datetime(2024, 6, 1, 12, tzinfo=UTC)
    for bad in (True, None, "soon", 10**20):
        with pytest.raises(BadRecord):
            timestamp_of(bad)
    with pytest.raises(BadRecord, match="message"):
        record_from_object({"timestamp": 1}, "x")
    with pytest.raises(BadRecord, match="object"):
        record_from_object([1], "x")
