"""`readiness monitors sync` against a real monitor, and the `monitor` gate's `cron_monitors`."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from ops_monitor_api.live_server import LiveServer, live_server

from ops_monitor.client import OpsMonitorClient
from ops_monitor.commands.serve import build_app
from ops_monitor.config import Settings
from readiness.cli import main
from readiness.gates.monitor import evaluate
from readiness.gates.result import GateContext, Status
from readiness.plan import CronMonitorsRequirement, MonitorGate

EXAMPLE = Path(__file__).parents[2] / "examples" / "workers-monorepo"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    settings = Settings(db_url=f"sqlite:///{tmp_path / 'ops.db'}", scheduler_enabled=False)
    with live_server(build_app(settings)) as running:
        yield running


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_sync_declares_a_monitor_per_cron_and_prints_new_keys_once(
    server: LiveServer, capsys: pytest.CaptureFixture[str]
) -> None:
    first, out, err = run(["monitors", "sync", str(EXAMPLE), "--url", server.url], capsys)
    again, out_again, _ = run(["monitors", "sync", str(EXAMPLE), "--url", server.url], capsys)

    with OpsMonitorClient(server.url) as client:
        slugs = sorted(m.slug for m in client.monitors())
        key = client.monitor("orchestrator-0-2-x-x-x").ping_key
    assert slugs == [
        "factory-billing-30-1-x-x-x",
        "factory-billing-xs15-x-x-x-x",
        "factory-reports-0-6-x-x-1",
        "orchestrator-0-2-x-x-x",
        "orchestrator-0-xs4-x-x-x",
        "specialist-notifier-0-9-x-x-1t5",
        "specialist-notifier-xs30-x-x-x-x",
    ]
    assert first == again == 1  # app-base's cron is invalid: it cannot be monitored
    assert err == (
        "readiness: error: apps/base/wrangler.toml:16: invalid cron expression '0 */6 * *' "
        "(Wrong number of fields): it cannot be monitored\n"
    )
    assert "orchestrator (orchestrator/wrangler.toml)" in out
    assert "  0 2 * * *        orchestrator-0-2-x-x-x  created" in out
    assert key is not None
    assert f'orchestrator: {{"0 2 * * *": "{key}"' in out
    assert "  0 2 * * *        orchestrator-0-2-x-x-x  exists" in out_again
    assert key not in out_again


def test_sync_of_a_clean_repository_exits_0(
    server: LiveServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    worker = tmp_path / "repo" / "jobs"
    worker.mkdir(parents=True)
    (worker / "wrangler.toml").write_text('name = "jobs"\n[triggers]\ncrons = ["15 3 * * *"]\n')

    code, out, _ = run(["monitors", "sync", str(tmp_path / "repo"), "--url", server.url], capsys)

    assert code == 0
    assert "jobs-15-3-x-x-x  created" in out


def test_sync_needs_a_monitor(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPS_MONITOR_URL", raising=False)
    missing, _, err = run(["monitors", "sync", str(EXAMPLE)], capsys)
    down, _, down_err = run(
        ["monitors", "sync", str(EXAMPLE), "--url", "http://127.0.0.1:1"], capsys
    )

    assert missing == 2
    assert "give --url or set OPS_MONITOR_URL" in err
    assert down == 1
    assert down_err.startswith("readiness: error: http://127.0.0.1:1: ")
    assert len(down_err.splitlines()) == 1


def test_the_gate_passes_when_every_cron_checks_in(server: LiveServer, tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "jobs").mkdir(parents=True)
    (repo / "jobs" / "wrangler.toml").write_text(
        'name = "jobs"\n[triggers]\ncrons = ["*/10 * * * *"]\n'
    )
    now = datetime.now(UTC)
    with OpsMonitorClient(server.url) as client:
        client.scan("full")
        client.declare_monitor("jobs-xs10-x-x-x-x", {"schedule": "*/10 * * * *"})
        client.check_in("jobs-xs10-x-x-x-x", "ok", duration=2)
    spec = MonitorGate(
        kind="monitor",
        url=server.url,
        check_crons=False,
        cron_monitors=CronMonitorsRequirement(window_hours=1),
    )

    result = evaluate(spec, GateContext(repo, env={}, now=lambda: now + timedelta(seconds=1)))

    assert result.status is Status.PASS, result.summary
    assert "ok   jobs '*/10 * * * *' (jobs/wrangler.toml:3): ok, 1 run(s) in the last 1 h" in (
        result.evidence
    )
    assert result.details["cron_monitors"] == [
        {"worker": "jobs", "cron": "*/10 * * * *", "monitor": "jobs-xs10-x-x-x-x", "ok": True}
    ]


def test_the_gate_fails_naming_a_cron_without_a_monitor(server: LiveServer, tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "jobs").mkdir(parents=True)
    (repo / "jobs" / "wrangler.toml").write_text(
        'name = "jobs"\n[triggers]\ncrons = ["0 4 * * *"]\n'
    )
    with OpsMonitorClient(server.url) as client:
        client.scan("full")
    spec = MonitorGate(
        kind="monitor", url=server.url, check_crons=False, cron_monitors=CronMonitorsRequirement()
    )

    result = evaluate(spec, GateContext(repo, env={}))

    assert result.status is Status.FAIL
    assert result.summary == "cron(s) not monitored healthy: jobs '0 4 * * *'"
    assert "no monitor `jobs-0-4-x-x-x` (run `readiness monitors sync`)" in result.evidence
