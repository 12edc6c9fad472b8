"""Rendering: what the runbooks say follows from the configuration, and nothing else."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from readiness.runbooks.facts import (
    Adoption,
    RuleDoc,
    RunbookConfigError,
    describe_database,
    expand_schedule,
    load_adoption,
    parse_monitor_facts,
)
from readiness.runbooks.files import stale_runbooks, write_runbooks
from readiness.runbooks.render import (
    format_gap,
    format_hours,
    format_number,
    format_size,
    nest_headings,
    overdue_seconds,
    render_runbooks,
    table_cell,
)
from readiness.runbooks.schedule import find_collisions

RULE = RuleDoc(
    id="db-ops-access",
    title="Direct use of a restricted binding",
    severity="error",
    docs=(
        "Direct use of a restricted binding\n\n## What\n\nTouching `DB_OPS` outside its owner.\n\n"
        "## How to fix\n\n```python\n# a comment, not a heading\nclient.scan()\n```\n"
    ),
)


def config(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "schedules": {"full": "0 2 * * *", "incremental": "0 */4 * * *"},
        "db_url": "sqlite:////srv/ops/ops-monitor.db",
        "retention_days": 14,
        "host": "127.0.0.1",
        "port": 8787,
        "starting_deadline_hours": 24.0,
        "max_push_bytes": 10 * 1024 * 1024,
        "rules": {
            "slow_request_ms": 1000.0,
            "spike_factor": 5.0,
            "spike_window_minutes": 60,
            "spike_min_count": 20,
        },
        "routes": [
            {"path": "/api/ops/scan", "methods": ["POST"], "summary": "Run a scan | now"},
            {"path": "/api/ops/cron", "method": "GET"},
            {"path": "/api/ops/issues/{issue_id}/resolve", "method": "POST"},
            "GET /healthz",
            "GET /api/ops/unknown",
        ],
        "metrics": [
            {"name": "ops_monitor_scheduler_runs_total", "type": "counter", "help": "Runs."},
            "ops_monitor_scans_total",
            "ops_monitor_scheduler_last_success_timestamp_seconds",
            "ops_monitor_scheduler_skipped_ticks_total",
        ],
    }
    base.update(overrides)
    return base


def render(data: dict[str, Any], adoption: Adoption | None = None) -> dict[str, str]:
    return render_runbooks(
        parse_monitor_facts(data), [RULE], adoption or Adoption(hooks=(), action_inputs=())
    )


def test_default_cadence_is_daily_full_and_four_hourly_incremental() -> None:
    full = expand_schedule("full", "0 2 * * *")
    incremental = expand_schedule("incremental", "0 */4 * * *")

    assert full.daily_times == ("02:00",)
    assert incremental.daily_times == ("00:00", "04:00", "08:00", "12:00", "16:00", "20:00")
    assert (full.runs_per_week, incremental.runs_per_week) == (7, 42)
    assert full.longest_gap == timedelta(days=1)
    assert incremental.longest_gap == timedelta(hours=4)
    assert find_collisions([full, incremental]) == ()


def test_a_minute_matching_both_schedules_runs_the_full_scan_only() -> None:
    schedules = [
        expand_schedule("incremental", "0 */4 * * *"),
        expand_schedule("full", "0 4 * * *"),
    ]

    (collision,) = find_collisions(schedules)

    assert collision.minute == "04:00 UTC, every day"
    assert collision.runs == "full"
    assert set(collision.schedules) == {"full", "incremental"}


def test_weekly_schedule_lists_its_firings_instead_of_daily_times() -> None:
    weekly = expand_schedule("full", {"cron": "30 3 * * 0", "scope": "full"})

    assert weekly.daily_times is None
    assert weekly.runs_per_week == 1
    assert weekly.first_firings[0] == "Sun 2024-01-07 03:30"
    assert format_gap(weekly.longest_gap) == "7 d"


def test_schedule_scopes_from_the_monitor_name_what_each_schedule_scans() -> None:
    data = config(
        schedules={"nightly": "0 3 * * *", "incremental": "0 */4 * * *"},
        schedule_scopes={"nightly": "full", "incremental": "incremental"},
    )

    facts = parse_monitor_facts(data)

    assert {s.name: s.scope for s in facts.schedules} == {
        "nightly": "full",
        "incremental": "incremental",
    }
    assert "nightly" in render(data)["cron-monitoring.md"]
    with pytest.raises(RunbookConfigError, match="'schedule_scopes' has the wrong type"):
        parse_monitor_facts(config(schedule_scopes=["full"]))


def test_invalid_cron_names_the_schedule() -> None:
    with pytest.raises(
        RunbookConfigError, match="schedule 'full': invalid cron '61 2 \\* \\* \\*'"
    ):
        expand_schedule("full", "61 2 * * *")
    with pytest.raises(RunbookConfigError, match="schedule 'nightly' has no cron expression"):
        expand_schedule("nightly", {"scope": "full"})


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"routes": [], "metrics": []}, "missing field 'schedules'"),
        ({"schedules": [], "routes": [], "metrics": []}, "field 'schedules' has the wrong type"),
        ({"schedules": {}, "routes": [{"method": "GET"}], "metrics": []}, "has no 'path'"),
        ({"schedules": {}, "routes": [], "metrics": [{"help": "x"}]}, "has no 'name'"),
    ],
)
def test_config_shape_errors_name_the_field(data: dict[str, Any], message: str) -> None:
    with pytest.raises(RunbookConfigError, match=message):
        parse_monitor_facts(data)


def test_database_is_described_without_machine_paths_or_passwords() -> None:
    assert (
        describe_database("sqlite:////home/ci/build/ops-monitor.db")
        == "SQLite file `ops-monitor.db`"
    )
    assert describe_database("sqlite://") == "SQLite file `:memory:`"
    assert (
        describe_database("postgresql+psycopg://ops:***@db:5432/ops") == "PostgreSQL database `ops`"
    )
    assert describe_database("mysql://x/y") == "`mysql` database"
    assert describe_database("") == "not configured"


def test_headings_nest_under_the_rule_section_but_code_comments_stay() -> None:
    nested = nest_headings("# Title\n\n## Why\n\n```sh\n# not a heading\n```\n### Deeper", 4)

    assert nested.splitlines() == [
        "#### Title",
        "",
        "##### Why",
        "",
        "```sh",
        "# not a heading",
        "```",
        "###### Deeper",
    ]
    assert nest_headings("no headings here", 4) == "no headings here"


def test_settings_read_as_people_write_them() -> None:
    assert format_size(1536) == "1,536 bytes"
    assert format_size(2 * 1024**3) == "2 GiB"
    assert format_size("big") == "big"
    assert format_number(2.5) == "2.5"
    assert format_hours(1.0) == "1 h"


def test_table_cells_stay_on_one_line() -> None:
    assert table_cell("runs\n  per | week") == "runs per \\| week"


def test_cron_runbook_documents_cadence_manual_scans_health_and_metrics() -> None:
    text = render(config())["cron-monitoring.md"]

    assert "| `full` | `0 2 * * *` | full | every day at 02:00 | 7 | 1 d |" in text
    assert "| `incremental` | `0 */4 * * *` | incremental |" in text
    assert "ops-monitor scan --scope full" in text
    assert "curl -X POST http://127.0.0.1:8787/api/ops/scan" in text
    assert '-d \'{"scope":"full"}\'' in text
    assert "ops-monitor cron status" in text
    assert "/api/ops/cron" in text
    assert "| `ops_monitor_scheduler_runs_total` | Runs. |" in text
    assert "| `ops_monitor_scans_total` | Scans finished, by scope, status and trigger" in text
    assert 'last_success_timestamp_seconds{schedule="full"} > 90000`' in text
    assert 'last_success_timestamp_seconds{schedule="incremental"} > 18000`' in text
    assert 'increase(ops_monitor_scheduler_runs_total{outcome="failed"}[1d]) > 1' in text
    assert '{reason="overlap"}[1d]) > 0' in text
    assert "## When a scan fails" in text
    assert "## When a cron is late" in text
    assert "SQLite file `ops-monitor.db` and keeps 14 days of logs" in text
    assert "within the starting deadline (24 h);\n" in text
    assert "/srv/ops" not in text


def test_cron_runbook_shows_which_schedule_wins_a_shared_minute() -> None:
    text = render(config(schedules={"full": "0 0 * * *", "incremental": "0 */4 * * *"}))

    assert "| 00:00 UTC, every day | full, incremental | `full` |" in text["cron-monitoring.md"]


def test_monitor_runbook_lists_routes_lifecycle_and_ingest_formats() -> None:
    text = render(config(host="0.0.0.0", port=9000))["ops-monitor.md"]

    assert "| POST | `/api/ops/scan` | Run a scan \\| now |" in text
    assert "| GET | `/healthz` | Liveness; the only route that never needs the token |" in text
    assert "| POST | `/api/ops/issues/{issue_id}/resolve` | Resolve an issue with" in text
    assert "| GET | `/api/ops/unknown` |  |" in text
    assert "Base URL: `http://127.0.0.1:9000`" in text
    assert "bodies over 10 MiB are refused with `413`" in text
    assert "(over 1,000 ms)" in text
    assert "(5 times the previous 60 minutes, at least 20 occurrences)" in text
    for status in ("new", "ongoing", "regressed", "resolved"):
        assert f"| `{status}` |" in text
    for fmt in ("--format jsonl", "--format wrangler", "--format text", "POST /api/ops/logs"):
        assert fmt in text


def test_checks_runbook_renders_each_rules_docs_and_the_shipped_hooks(tmp_path: Path) -> None:
    (tmp_path / ".pre-commit-hooks.yaml").write_text(
        "- id: readiness-check\n  name: readiness check\n  entry: readiness check\n"
        "  language: python\n  types_or: [python, ts]\n  description: Audit staged files.\n"
    )
    (tmp_path / "action.yml").write_text(
        "name: readiness\ninputs:\n  path:\n"
        "    description: >-\n      Repository\n      to audit.\n"
    )

    text = render(config(), load_adoption(tmp_path))["checks.md"]

    assert (
        "| [`db-ops-access`](#db-ops-access) | error | Direct use of a restricted binding |" in text
    )
    assert "### db-ops-access\n" in text
    assert "#### What\n" in text
    assert "#### How to fix\n" in text
    assert "# a comment, not a heading" in text
    assert "      - id: readiness-check\n" in text
    assert "| `readiness-check` | `readiness check` | python, ts | Audit staged files. |" in text
    assert "| `path` | Repository to audit. |" in text
    assert "--write-baseline" in text


def test_adoption_is_empty_where_no_hooks_or_action_are_shipped(tmp_path: Path) -> None:
    assert load_adoption(tmp_path) == Adoption(hooks=(), action_inputs=())


def test_broken_hooks_file_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / ".pre-commit-hooks.yaml").write_text("- id: [unclosed\n")

    with pytest.raises(RunbookConfigError, match=r"\.pre-commit-hooks\.yaml"):
        load_adoption(tmp_path)


def test_rendering_is_deterministic_and_carries_no_timestamp() -> None:
    today = datetime.now(UTC).strftime("%Y-%m-%d")

    first, second = render(config()), render(config())

    assert first == second
    assert sorted(first) == ["checks.md", "cron-monitoring.md", "ops-monitor.md"]
    for text in first.values():
        assert text.endswith("\n")
        assert not text.endswith("\n\n")
        assert today not in text


def test_check_reports_missing_and_changed_runbooks_with_a_unified_diff(tmp_path: Path) -> None:
    rendered = render(config())
    out = tmp_path / "runbooks"

    missing = stale_runbooks(out, rendered)
    write_runbooks(out, rendered)
    fresh = stale_runbooks(out, rendered)
    changed = render(config(schedules={"full": "30 1 * * *", "incremental": "0 */4 * * *"}))
    drift = stale_runbooks(out, changed)

    assert [item.path.name for item in missing] == sorted(rendered)
    assert missing[0].diff.startswith("--- /dev/null\n")
    assert fresh == []
    assert [item.path.name for item in drift] == ["cron-monitoring.md"]
    assert "-| `full` | `0 2 * * *`" in drift[0].diff
    assert "+| `full` | `30 1 * * *`" in drift[0].diff


def test_write_touches_only_stale_files_and_leaves_no_temporaries(tmp_path: Path) -> None:
    rendered = render(config())
    write_runbooks(tmp_path, rendered)
    untouched = tmp_path / "ops-monitor.md"
    before = untouched.stat().st_mtime_ns

    written = write_runbooks(tmp_path, {**rendered, "checks.md": "changed\n"})

    assert written == [tmp_path / "checks.md"]
    assert (tmp_path / "checks.md").read_text() == "changed\n"
    assert untouched.stat().st_mtime_ns == before
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(rendered)


def test_a_leap_day_schedule_has_no_gap_within_the_reference_year() -> None:
    leap = expand_schedule("full", "0 2 29 2 *")

    assert len(leap.firings) == 1
    assert leap.longest_gap is None
    assert format_gap(leap.longest_gap) == "runs at most once a year"
    assert overdue_seconds(leap.longest_gap) == str(366 * 24 * 3600 + 3600)
