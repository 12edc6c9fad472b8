"""Ingest never loses good records to a bad one, and stores what it keeps the same way on SQLite
and PostgreSQL: out-of-bounds timestamps are refused as malformed (and a record stored before
that rule cannot make scans walk centuries of windows), text the databases cannot hold is
normalised, and JSON nested too deeply costs its own line only."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from ops_monitor.cli import main
from ops_monitor.ingest.jsonl import read_jsonl
from ops_monitor.ingest.malformed import MalformedLines
from ops_monitor.ingest.normalise import trusted_record
from ops_monitor.ingest.text import DEFAULT_FORMAT, MAX_MESSAGE_CHARS, compile_format, read_text
from ops_monitor.ingest.wrangler import read_wrangler
from ops_monitor.service import OpsMonitorService
from ops_monitor.store import Store
from ops_monitor.store import logs as log_rows
from ops_monitor.store.schema import operation_logs

from .conftest import NOW, Clock, records

StoredRow = tuple[str, str, str, str | None, float | None, str | None]


def stored(store: Store) -> list[StoredRow]:
    """What the database holds, read back through the driver: what both backends agreed on."""
    c = operation_logs.c
    query = select(c.source, c.level, c.message, c.outcome, c.duration_ms, c.attributes)
    with store.read() as connection:
        return [tuple(row) for row in connection.execute(query.order_by(c.id))]


def line(message: str, at: datetime = NOW - timedelta(minutes=5), **fields: object) -> str:
    return json.dumps({"timestamp": at.isoformat(), "level": "error", "message": message, **fields})


# ---------------------------------------------------------------- timestamps out of bounds


def test_records_dated_far_ahead_or_before_the_epoch_are_refused_at_their_line(
    service: OpsMonitorService, store: Store
) -> None:
    lines = [
        line("before"),
        line("far future", at=datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)),
        line("year one", at=datetime(1, 1, 1, tzinfo=UTC)),
        line("skewed a little", at=NOW + timedelta(hours=23)),  # within a day: clock skew
        line("after"),
    ]
    malformed = MalformedLines()

    count = service.ingest(read_jsonl(lines, malformed), malformed=malformed)

    assert count == 3
    assert [row[2] for row in stored(store)] == ["before", "skewed a little", "after"]
    assert malformed.count == 2
    future, past = malformed.samples
    assert future.startswith("line 2: timestamp: in the future, more than 1 day ahead")
    assert "far future" in future
    assert past.startswith("line 3: timestamp: before 1970-01-01T00:00:00+00:00")
    result = service.run_scan("incremental")
    assert (result.logs_processed, result.malformed_lines) == (3, 2)


def test_the_future_bound_follows_the_injected_clock(store: Store, clock: Clock) -> None:
    service = OpsMonitorService(store, clock=clock, max_future=timedelta(hours=2))
    tomorrow = records("api", 1, at=NOW + timedelta(hours=3))

    assert service.ingest(tomorrow) == 0
    clock.advance(hours=2)
    assert service.ingest(tomorrow) == 1


def test_a_tail_event_refused_for_its_date_counts_as_one_malformed_line(
    service: OpsMonitorService,
) -> None:
    event = {
        "scriptName": "w",
        "outcome": "ok",
        "eventTimestamp": 253402300799000,  # 9999-12-31
        "logs": [{"level": "log", "message": ["a"]}, {"level": "log", "message": ["b"]}],
        "exceptions": [],
    }
    malformed = MalformedLines()

    assert service.ingest(read_jsonl([json.dumps(event)], malformed), malformed=malformed) == 0
    assert malformed.count == 1


@pytest.mark.timeout(60)
def test_a_far_future_record_stored_before_the_bound_files_no_spurious_spike(
    service: OpsMonitorService, store: Store
) -> None:
    service.ingest(records("api", 30, at=NOW - timedelta(hours=2), step=timedelta(minutes=1)))
    far = log_rows.to_micros(datetime(2400, 1, 1, tzinfo=UTC))
    with store.write() as connection:  # as an older version, without the bound, stored it
        log_rows.insert_logs(connection, [(far, "api", "error", "far future", None, None, None)])

    result = service.run_scan("full")

    assert (result.status, result.logs_processed) == ("completed", 31)
    assert [issue.title for issue in service.open_issues() if "spike" in issue.title] == []


# ---------------------------------------------------------------- text both databases accept


def test_surrogates_nul_and_over_long_fields_are_normalised_the_same_on_both_backends(
    service: OpsMonitorService, store: Store
) -> None:
    lines = [
        r'{"timestamp": "2026-06-01T11:00:00Z", "message": "surrogate \ud800 here"}',
        r'{"timestamp": "2026-06-01T11:00:00Z", "message": "nul \u0000 here", '
        r'"source": "a\u0000b"}',
        json.dumps(
            {
                "timestamp": "2026-06-01T11:00:00Z",
                "message": "long fields",
                "source": "s" * 300,
                "level": "L" * 30,
                "outcome": "o" * 50,
                "note": "attr \x00 \ud800",
            }
        ),
        r'{"timestamp": "2026-06-01T11:00:00Z", "message": "nan", "duration_ms": NaN}',
        '{"timestamp": "2026-06-01T11:00:00Z", "message": "huge", "duration_ms": 1'
        + "0" * 400
        + "}",
        line("good"),
    ]
    malformed = MalformedLines()

    count = service.ingest(read_jsonl(lines, malformed), malformed=malformed)

    assert (count, malformed.count) == (6, 0)
    rows = stored(store)
    assert rows[0][2] == "surrogate \ufffd here"
    assert rows[1][:3] == ("a\ufffdb", "info", "nul \ufffd here")
    source, level, _, outcome, _, attributes = rows[2]
    assert (len(source), len(level), len(outcome or "")) == (200, 20, 40)
    assert source.endswith("\u2026")
    assert level == "l" * 19 + "\u2026"
    assert json.loads(attributes or "{}") == {"note": "attr \x00 \ud800"}  # JSON escapes them
    assert rows[3][4] is None  # NaN is not a duration: PostgreSQL would rank it above all
    assert rows[4][4] is None
    assert rows[5][2] == "good"


def test_ingest_of_a_file_with_a_lone_surrogate_stores_every_record(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "cli.db"
    monkeypatch.setenv("OPS_MONITOR_DB", f"sqlite:///{db}")
    monkeypatch.delenv("OPS_MONITOR_URL", raising=False)
    monkeypatch.delenv("OPS_MONITOR_CONFIG", raising=False)
    at = datetime.now(UTC) - timedelta(hours=1)
    path = tmp_path / "app.jsonl"
    good = [line(f"good {i}", at=at) for i in range(120)]
    bad = line("surrogate \ud800 here", at=at)
    assert "\\ud800" in bad
    path.write_text("\n".join([*good[:60], bad, *good[60:]]) + "\n")

    assert main(["ingest", str(path), "--batch-size", "50", "--no-progress"]) == 0

    assert "ingested 121 records" in capsys.readouterr().out


def test_attributes_too_deep_to_write_as_json_refuse_that_record_only(
    service: OpsMonitorService, store: Store
) -> None:
    deep: list[object] = []
    for _ in range(5000):
        deep = [deep]
    bad = trusted_record(NOW, "api", "error", "deep", {"payload": deep})
    good = records("api", 2)

    assert service.ingest([good[0], bad, good[1]]) == 2
    assert len(stored(store)) == 2


def test_deeply_nested_json_lines_are_malformed_and_the_rest_is_read() -> None:
    lines = [
        "[" * 100_000 + "]" * 100_000,
        '{"timestamp": 1717243200, "message": "' + "x" * 10 + '", "n": ' + "1" * 5000 + "}",
        line("after"),
    ]
    malformed = MalformedLines()

    found = list(read_jsonl(lines, malformed))

    assert [record.message for record in found] == ["after"]
    assert malformed.count == 2
    assert malformed.samples[0].startswith("line 1: not JSON (nested too deeply)")
    assert malformed.samples[1].startswith("line 2: not JSON (Exceeds the limit")


def test_jsonl_joins_a_line_split_at_a_lone_carriage_return() -> None:
    pieces = ['{"timestamp": 1717243200,\r', ' "message": "one record"}\n']
    malformed = MalformedLines()

    [record] = read_jsonl(pieces, malformed)

    assert (record.message, malformed.count) == ("one record", 0)


# ---------------------------------------------------------------- malformed samples


def test_malformed_samples_escape_control_characters() -> None:
    malformed = MalformedLines()

    malformed.add(3, "not JSON", "\x1b[2J\x00bell\x07 tab\t \u202eevil \ud800 ok")

    assert malformed.samples == [
        "line 3: not JSON: \\x1b[2J\\x00bell\\x07 tab\\t \\u202eevil \\ud800 ok"
    ]


# ---------------------------------------------------------------- wrangler tail output


def tail_event(n: int) -> dict[str, object]:
    return {
        "scriptName": "api-worker",
        "outcome": "ok",
        "eventTimestamp": 1780300800000 + n,
        "event": {"request": {"url": f"https://x.example/{n}", "method": "GET"}},
        "logs": [],
        "exceptions": [],
    }


@pytest.mark.parametrize(
    "junk",
    [
        "Connected to api-worker, waiting for logs...",
        '{"outcome": "ok", "scriptName": "broken",',
        '{\n  "outcome": "ok",\n  "scriptName": "broken",',
    ],
)
def test_wrangler_resyncs_at_the_next_event_after_a_bad_line(junk: str) -> None:
    events = [json.dumps(tail_event(n), indent=2) for n in range(100)]
    text = "\n".join([*events[:50], junk, *events[50:]]) + "\n"
    malformed = MalformedLines()

    found = list(read_wrangler(text.splitlines(keepends=True), malformed))

    assert len(found) == 100
    assert malformed.count == 1
    assert "x.example/50" not in malformed.samples[0]  # the next event is not part of the junk
    assert malformed.samples[0].startswith(f"line {50 * (events[0].count(chr(10)) + 1) + 1}:")


def test_wrangler_counts_deeply_nested_events_as_malformed() -> None:
    lines = ["{" + '"a":' * 0 + '"x": ' + "[" * 100_000 + "]" * 100_000 + "}\n"]
    lines.append(json.dumps(tail_event(1)) + "\n")
    malformed = MalformedLines()

    found = list(read_wrangler(lines, malformed))

    assert len(found) == 1
    assert malformed.samples[0].startswith("line 1: not a JSON event (nested too deeply)")


# ---------------------------------------------------------------- plain text


def test_text_attaches_stack_trace_lines_to_the_record_before_them() -> None:
    lines = [
        "2026-06-01 10:00:00 ERROR TypeError: x is undefined\n",
        "  at Foo.bar (foo.js:10)\n",
        "\tat Baz.qux (baz.js:20)\n",
        "Caused by: RangeError: too far\n",
        "2026-06-01 10:00:01 INFO next request\n",
        "2026-13-45 99:00:00 INFO broken date\n",
    ]
    malformed = MalformedLines()

    first, second = read_text(lines, malformed, pattern=compile_format(DEFAULT_FORMAT))

    assert first.message == (
        "TypeError: x is undefined\n  at Foo.bar (foo.js:10)\n\tat Baz.qux (baz.js:20)\n"
        "Caused by: RangeError: too far"
    )
    assert second.message == "next request"
    assert malformed.count == 1  # a dated line that does not read is a broken record
    assert malformed.samples[0].startswith("line 6: timestamp: not a date")


def test_text_continuations_are_bounded() -> None:
    lines = ["2026-06-01 10:00:00 ERROR boom\n"] + ["  at f (" + "x" * 1000 + ")\n"] * 100
    malformed = MalformedLines()

    [record] = read_text(lines, malformed, pattern=compile_format(DEFAULT_FORMAT))

    assert len(record.message) <= MAX_MESSAGE_CHARS
    assert malformed.count == 100 - MAX_MESSAGE_CHARS // 1010
    assert "continues the record of line 1" in malformed.samples[0]


def test_text_continuations_are_stored_with_their_record(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "cli.db"
    monkeypatch.setenv("OPS_MONITOR_DB", f"sqlite:///{db}")
    monkeypatch.delenv("OPS_MONITOR_URL", raising=False)
    monkeypatch.delenv("OPS_MONITOR_CONFIG", raising=False)
    stamp = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%d %H:%M:%S")
    path = tmp_path / "app.log"
    path.write_bytes(f"{stamp} ERROR carriage\rreturn kept\r\n  at Foo.bar (foo.js:10)\n".encode())

    assert main(["ingest", str(path), "--format", "text", "--no-progress"]) == 0

    assert "ingested 1 records" in capsys.readouterr().out
    [row] = stored(Store(f"sqlite:///{db}"))
    assert row[2] == "carriage\rreturn kept\n  at Foo.bar (foo.js:10)"


def test_a_syslog_date_without_a_year_is_never_dated_in_the_future() -> None:
    pattern = compile_format(r"^(?P<Date>\w{3} +\d+ [\d:]+) (?P<Content>.*)$")
    new_year = datetime(2027, 1, 1, 0, 5, tzinfo=UTC)

    [record] = read_text(
        ["Dec 31 23:59:00 last of the year\n"], MalformedLines(), pattern=pattern, now=new_year
    )

    assert record.timestamp == datetime(2026, 12, 31, 23, 59, tzinfo=UTC)
