"""Text ingest never stores a PID as a level: a `<Level>` field that holds no level is read the
way raw-line header learning reads a header, and the run says how many records fit the pattern."""

from __future__ import annotations

from pathlib import Path

import pytest

from ops_monitor.cli import main
from ops_monitor.ingest.malformed import MalformedLines
from ops_monitor.ingest.text import (
    DEFAULT_FORMAT,
    LEVEL_FIELD_ATTRIBUTE,
    PatternFit,
    compile_format,
    read_text,
)

PID_LAYOUT = [
    "2024-03-01 10:00:01 148 INFO Main: service started on port 8080",
    "2024-03-01 10:00:02 148 ERROR Main: connection refused to db-1",
    "2024-03-01 10:00:03 19 [warn] Worker: queue is 90% full",
]


def _read(lines: list[str]) -> tuple[list[tuple[str, str, dict[str, object]]], PatternFit]:
    fit = PatternFit()
    records = read_text(lines, MalformedLines(), pattern=compile_format(DEFAULT_FORMAT), fit=fit)
    return [(r.level, r.message, dict(r.attributes)) for r in records], fit


def test_a_pid_where_the_level_stands_is_kept_as_an_attribute_and_the_level_found_after_it() -> (
    None
):
    records, fit = _read(PID_LAYOUT)

    assert records == [
        ("info", "Main: service started on port 8080", {LEVEL_FIELD_ATTRIBUTE: "148"}),
        ("error", "Main: connection refused to db-1", {LEVEL_FIELD_ATTRIBUTE: "148"}),
        ("warning", "Worker: queue is 90% full", {LEVEL_FIELD_ATTRIBUTE: "19"}),
    ]
    assert (fit.records, fit.fitting, fit.level_found_later, fit.no_level) == (3, 0, 3, 0)


def test_a_layout_the_pattern_describes_is_read_as_it_stands() -> None:
    records, fit = _read(["2024-03-01 10:00:01 ERROR worker crashed: INFO lost"])

    assert records == [("error", "worker crashed: INFO lost", {})]
    assert (fit.records, fit.fitting) == (1, 1)


def test_a_level_word_inside_the_message_is_not_taken_for_the_level() -> None:
    records, fit = _read(["2024-03-01 10:00:01 77 worker says ERROR twice"])

    assert records == [("info", "worker says ERROR twice", {LEVEL_FIELD_ATTRIBUTE: "77"})]
    assert (fit.fitting, fit.no_level) == (0, 1)


def test_ingest_reports_how_many_records_fit_the_pattern(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OPS_MONITOR_DB", f"sqlite:///{tmp_path / 'text.db'}")
    monkeypatch.setenv("OPS_MONITOR_RETENTION_DAYS", "36500")
    log = tmp_path / "app.log"
    log.write_text("\n".join([*PID_LAYOUT, "2024-03-01 10:00:04 INFO plain line"]) + "\n")

    assert main(["ingest", str(log), "--format", "text", "--no-progress"]) == 0
    out = capsys.readouterr().out

    assert "ingested 4 records" in out
    assert "1 of 4 records fit it" in out
    assert "in 3 the <Level> field held no level" in out
