"""The local commands end to end: ingest a file, scan, list and resolve issues, print config."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ops_monitor.cli import main

LINES = [
    {
        "timestamp": "2026-06-01T10:00:00Z",
        "level": "error",
        "source": "api",
        "message": f"payment {i} declined",
    }
    for i in range(6)
] + [{"timestamp": "2026-06-01T10:00:00Z", "level": "info", "message": "ok"}]


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("OPS_MONITOR_DB", url)
    monkeypatch.setenv("OPS_MONITOR_RETENTION_DAYS", "36500")
    monkeypatch.delenv("OPS_MONITOR_URL", raising=False)
    monkeypatch.delenv("OPS_MONITOR_CONFIG", raising=False)
    return url


@pytest.fixture
def log_file(tmp_path: Path) -> Path:
    path = tmp_path / "app.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in LINES) + "\n{broken\n")
    return path


def test_ingest_scan_issues_resolve(
    db: str, log_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["ingest", str(log_file), "--no-progress"]) == 0
    out, err = capsys.readouterr()
    assert "ingested 7 records" in out
    assert "1 malformed lines" in out
    assert "line 8: not JSON" in err

    assert main(["scan", "--scope", "full", "--json"]) == 0
    scan = json.loads(capsys.readouterr().out)
    assert (scan["status"], scan["logs_processed"], scan["issues_filed"]) == ("completed", 7, 1)
    assert scan["malformed_lines"] == 1

    assert main(["issues", "--json"]) == 0
    [issue] = json.loads(capsys.readouterr().out)
    assert issue["template"] == "payment <*> declined"

    assert main(["issues"]) == 0
    assert "payment <n> declined" in capsys.readouterr().out

    assert main(["resolve", str(issue["id"]), "fixed"]) == 0
    assert "resolved issue" in capsys.readouterr().out
    assert main(["issues"]) == 0
    assert capsys.readouterr().out.strip() == "no issues"
    assert main(["resolve", "999", "x"]) == 2
    assert "issue 999 does not exist" in capsys.readouterr().err

    assert main(["scan"]) == 0
    assert "scan 2 (incremental) completed: 0 logs processed" in capsys.readouterr().out


def test_text_and_wrangler_formats(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = tmp_path / "app.log"
    text.write_text("2026-06-01 10:00:00 ERROR worker crashed\nnoise\n")
    tail = tmp_path / "tail.json"
    tail.write_text(
        json.dumps(
            {"scriptName": "w", "outcome": "ok", "eventTimestamp": 1, "logs": [], "exceptions": []}
        )
        + "\n"
    )

    assert main(["ingest", str(text), "--format", "text", "--progress"]) == 0
    assert "ingested 1 records" in capsys.readouterr().out
    assert main(["ingest", str(tail), "--format", "wrangler", "--no-progress"]) == 0
    assert "ingested 1 records" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["ingest", "missing.jsonl"], "missing.jsonl"),
        (["ingest", "x", "--pattern", "<Date>"], "--pattern only applies to --format text"),
        (["scan", "--scope", "weekly"], "'weekly' is not one of"),
    ],
)
def test_usage_errors_exit_2_with_one_line(
    db: str, argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


def test_bad_text_pattern_and_bad_config_exit_2(
    db: str, log_file: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["ingest", str(log_file), "--format", "text", "--pattern", "(x"]) == 2
    assert "not a valid regular expression" in capsys.readouterr().err
    monkeypatch.setenv("OPS_MONITOR_PORT", "many")
    assert main(["scan"]) == 2
    assert "OPS_MONITOR_PORT: expected a number" in capsys.readouterr().err


def test_config_json_lists_schedules_routes_and_metrics_with_the_password_masked(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OPS_MONITOR_DB", "postgresql+psycopg://ops:hunter2@db/ops")

    assert main(["config", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)

    assert data["db_url"] == "postgresql+psycopg://ops:***@db/ops"
    assert data["schedules"] == {"full": "0 2 * * *", "incremental": "0 */4 * * *"}
    assert data["schedule_scopes"] == {"full": "full", "incremental": "incremental"}
    assert {"method": "POST", "path": "/api/ops/scan"} in data["routes"]
    assert {"method": "WEBSOCKET", "path": "/api/ops/broadcast"} in data["routes"]
    assert "ops_monitor_scans_total" in data["metrics"]
    assert set(data) >= {"config_version", "retention_days", "rules", "token_required"}

    assert main(["config"]) == 0
    assert "POST /api/ops/scan" in capsys.readouterr().out


def test_config_json_gives_each_schedule_its_cron_and_its_scope(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    schedules = {"nightly": {"cron": "0 3 * * *", "scope": "full"}, "incremental": "*/30 * * * *"}
    monkeypatch.setenv("OPS_MONITOR_SCHEDULES", json.dumps(schedules))

    assert main(["config", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)

    assert data["schedules"] == {"nightly": "0 3 * * *", "incremental": "*/30 * * * *"}
    assert data["schedule_scopes"] == {"nightly": "full", "incremental": "incremental"}


def test_help_shows_examples(capsys: pytest.CaptureFixture[str]) -> None:
    for command in ("scan", "issues", "ingest", "config", "resolve"):
        assert main([command, "--help"]) == 0
        assert "Examples:" in capsys.readouterr().out
