"""The repository's cron triggers as monitors: slugs, the example's triggers, the history, the
verdicts, and a sync against a real monitor."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from ops_monitor_api.live_server import live_server

from checks.api import CronTrigger, repository_cron_triggers
from ops_monitor.client import CronMonitor, OpsMonitorClient
from ops_monitor.commands.serve import build_app
from ops_monitor.config import Settings
from ops_monitor.monitors.config import SLUG
from readiness import cron_monitors
from readiness.cron_monitors import History, HistoryError, judge, slug_for

EXAMPLE = Path(__file__).parents[2] / "examples" / "workers-monorepo"
NOW = datetime(2026, 12, 4, 21, 7, 30, tzinfo=UTC)  # a Friday


def test_slugs_are_stable_readable_and_valid() -> None:
    assert slug_for("orchestrator", "0 */4 * * *") == "orchestrator-0-xs4-x-x-x"
    assert slug_for("specialist-notifier", "0 9 * * 1-5") == "specialist-notifier-0-9-x-x-1t5"
    long = slug_for("w" * 120, "0 2 * * *")
    assert len(long) == 100
    assert long == slug_for("w" * 120, "0 2 * * *")
    assert long != slug_for("w" * 120, "0 3 * * *")
    assert all(SLUG.match(s) for s in (long, slug_for("My_Worker.v2", "*/5 * * * MON-FRI")))


def test_the_example_s_triggers_come_from_its_wrangler_configs() -> None:
    found = repository_cron_triggers(EXAMPLE)

    assert [(t.worker, t.cron, t.config_path, t.line) for t in found] == [
        ("app-base", "0 */6 * *", "apps/base/wrangler.toml", 16),
        ("factory-billing", "*/15 * * * *", "apps/factories/billing/wrangler.jsonc", 14),
        ("factory-billing", "30 1 * * *", "apps/factories/billing/wrangler.jsonc", 14),
        ("factory-reports", "0 6 * * 1", "apps/factories/reports/wrangler.toml", 12),
        ("specialist-notifier", "0 9 * * 1-5", "apps/specialists/notifier/wrangler.jsonc", 11),
        ("specialist-notifier", "*/30 * * * *", "apps/specialists/notifier/wrangler.jsonc", 12),
        ("orchestrator", "0 2 * * *", "orchestrator/wrangler.toml", 23),
        ("orchestrator", "0 */4 * * *", "orchestrator/wrangler.toml", 23),
    ]
    assert found[0].problem == "Wrong number of fields"
    assert all(t.problem is None for t in found[1:])


def test_the_history_resolves_against_now(tmp_path: Path) -> None:
    path = tmp_path / "history.yaml"
    path.write_text(
        "hours: 2\njobs:\n  - {worker: w, cron: '*/30 * * * *', duration_seconds: 5}\n"
        "  - {worker: d, cron: '0 9 * * 1-5', hours: 80}\n"
    )
    history = History.load(path)

    runs = history.checkins(NOW)

    assert runs == [
        ("d-0-9-x-x-1t5", "ok", datetime(2026, 12, 2, 9, 0, 2, tzinfo=UTC), 1.0),
        ("d-0-9-x-x-1t5", "ok", datetime(2026, 12, 3, 9, 0, 2, tzinfo=UTC), 1.0),
        ("d-0-9-x-x-1t5", "ok", datetime(2026, 12, 4, 9, 0, 2, tzinfo=UTC), 1.0),
        ("w-xs30-x-x-x-x", "ok", datetime(2026, 12, 4, 19, 30, 6, tzinfo=UTC), 5.0),
        ("w-xs30-x-x-x-x", "ok", datetime(2026, 12, 4, 20, 0, 6, tzinfo=UTC), 5.0),
        ("w-xs30-x-x-x-x", "ok", datetime(2026, 12, 4, 20, 30, 6, tzinfo=UTC), 5.0),
        ("w-xs30-x-x-x-x", "ok", datetime(2026, 12, 4, 21, 0, 6, tzinfo=UTC), 5.0),
    ]
    assert history.since("d-0-9-x-x-1t5", NOW) == NOW - timedelta(hours=80)
    assert history.since("other", NOW) == NOW - timedelta(hours=2)


def test_a_run_still_going_is_in_progress(tmp_path: Path) -> None:
    path = tmp_path / "history.yaml"
    path.write_text(
        "hours: 1\njobs:\n  - {worker: w, cron: '*/30 * * * *', duration_seconds: 600}\n"
    )

    runs = History.load(path).checkins(NOW)

    assert runs[-1] == (
        "w-xs30-x-x-x-x",
        "in_progress",
        datetime(2026, 12, 4, 21, 0, 1, tzinfo=UTC),
        0.0,
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("jobs: []\n", "hours: expected a number of hours"),
        ("hours: 1\njobs: {}\n", "jobs: expected a list"),
        ("hours: 1\njobs:\n  - {cron: '* * * * *'}\n", "jobs[0].worker: expected a worker"),
        ("hours: 1\njobs:\n  - {worker: w, cron: '* * *'}\n", "jobs[0].cron: expected a five"),
        ("hours: 1\njobs:\n  - {worker: w, cron: '* * * * *', hours: 0}\n", "jobs[0].hours"),
    ],
)
def test_a_bad_history_names_the_field(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "history.yaml"
    path.write_text(text)

    with pytest.raises(HistoryError) as raised:
        History.load(path)

    assert str(raised.value).startswith(f"{path}: {message}")


def _monitor(slug: str, state: str, counts: dict[str, int], last: str | None = "ok") -> CronMonitor:
    return CronMonitor(slug, state, False, {}, None, None, last, counts, 24)


def test_the_verdicts_name_what_is_wrong_with_each_cron() -> None:
    def trigger(worker: str, cron: str, problem: str | None = None) -> CronTrigger:
        return CronTrigger(worker, cron, f"{worker}/wrangler.toml", 3, problem)

    found = [
        trigger("good", "0 2 * * *"),
        trigger("late", "0 2 * * *"),
        trigger("flaky", "0 2 * * *"),
        trigger("dead", "0 2 * * *"),
        trigger("fresh", "0 2 * * *"),
        trigger("absent", "0 2 * * *"),
        trigger("broken", "0 2 * *", "Wrong number of fields"),
    ]
    monitors = [
        _monitor("good-0-2-x-x-x", "ok", {"ok": 1}),
        _monitor("late-0-2-x-x-x", "late", {"ok": 1}),
        _monitor("flaky-0-2-x-x-x", "ok", {"ok": 1, "error": 1}),
        _monitor("dead-0-2-x-x-x", "missed", {"missed": 2}, "missed"),
        _monitor("fresh-0-2-x-x-x", "new", {}, None),
    ]

    verdicts = {v.trigger.worker: v for v in judge(found, monitors, 24)}

    assert [w for w, v in verdicts.items() if v.ok] == ["good", "late"]
    assert (
        verdicts["good"].summary
        == "good '0 2 * * *' (good/wrangler.toml:3): ok, 1 run(s) in the last 24 h"
    )
    assert verdicts["flaky"].summary.endswith("is ok now but had 1 error in the last 24 h")
    assert verdicts["dead"].summary.endswith("is missed (2 missed in the last 24 h)")
    assert verdicts["fresh"].summary.endswith("never checked in")
    assert verdicts["absent"].summary.endswith(
        "no monitor `absent-0-2-x-x-x` (run `readiness monitors sync`)"
    )
    assert verdicts["broken"].summary.endswith("invalid cron, cannot be monitored")


def test_the_example_history_misses_the_orchestrator_s_crons(tmp_path: Path) -> None:
    app = build_app(Settings(db_url=f"sqlite:///{tmp_path / 'ops.db'}", scheduler_enabled=False))
    found = repository_cron_triggers(EXAMPLE)
    history = History.load(EXAMPLE / "monitoring" / "checkin-history.yaml")
    with live_server(app) as server, OpsMonitorClient(server.url) as client:
        now = datetime.now(UTC)
        synced = cron_monitors.sync(found, client, since=lambda slug: history.since(slug, now))
        cron_monitors.replay(history, client, now)
        client.evaluate_monitors()
        again = cron_monitors.sync(found, client)
        verdicts = judge(found, client.monitors(window_hours=26), 26)

    assert [s.slug is None for s in synced] == [True] + [False] * 7
    assert all(s.created and s.ping_key for s in synced[1:])
    assert not any(s.created for s in again)
    failing = {(v.trigger.worker, v.trigger.cron) for v in verdicts if not v.ok}
    assert failing == {
        ("app-base", "0 */6 * *"),
        ("factory-reports", "0 6 * * 1"),
        ("orchestrator", "0 2 * * *"),
        ("orchestrator", "0 */4 * * *"),
    }
