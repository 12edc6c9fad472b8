"""Alerts: delivered after the scan that filed an issue, once across retries, throttled per issue,
recorded, only to configured URLs; `issue.escalating`; `alerts.notify` for cron events; the
configuration's errors; `ops-monitor alerts test`."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from ops_monitor import alerts
from ops_monitor.alerts.rules import AlertRule, parse_alerts
from ops_monitor.cli import main
from ops_monitor.config import ConfigError, Settings
from ops_monitor.oncall.timeline import EscalationRule, escalation

from .receiver import receiver
from .served import served_monitor

NOW = datetime.now(UTC).replace(microsecond=0)


def errors(
    count: int, *, start: datetime, step: timedelta, route: str = "orders"
) -> list[dict[str, Any]]:
    return [
        {
            "timestamp": (start + i * step).isoformat(),
            "source": "checkout",
            "level": "error",
            "message": f"POST /api/{route}/{100 + i} failed: upstream timeout",
        }
        for i in range(count)
    ]


def targets(*rules: dict[str, Any]) -> tuple[AlertRule, ...]:
    return parse_alerts(list(rules), "alerts")


def test_a_new_issue_is_alerted_within_two_seconds_of_its_scan_and_once_across_a_retry(
    db_url: str,
) -> None:
    with (
        receiver(answers=[503]) as hook,
        served_monitor(db_url, alerts=targets({"url": hook.url, "throttle": 0})) as monitor,
    ):
        monitor.push(errors(5, start=NOW - timedelta(minutes=10), step=timedelta(seconds=1)))

        monitor.client.scan("full")
        scanned = time.monotonic()
        arrived = hook.wait_for(2, timeout=2.0)
        monitor.client.scan("full")  # nothing new: nothing to say
        assert monitor.server.app.state.alerts.drain()  # its alerts are done
        deliveries = httpx.get(monitor.url + "/api/ops/alerts/deliveries").json()

    assert [r.answered for r in arrived] == [503, 200]
    assert arrived[1].at - scanned <= 2.0
    assert len(hook.requests) == 2  # exactly one accepted delivery, after one retry
    first, second = arrived
    assert first.headers["x-ops-monitor-delivery"] == second.headers["x-ops-monitor-delivery"]
    body = second.body
    assert body["event"] == "issue.new"
    assert body["title"] == "Errors in checkout: POST /api/orders/<n> failed: upstream timeout"
    assert body["issue"]["occurrences"] == 5
    assert [(d["event"], d["status"], d["attempts"], d["response_status"]) for d in deliveries] == [
        ("issue.new", "delivered", 2, 200)
    ]


def test_a_regression_inside_the_throttle_is_recorded_not_sent(tmp_path: Path) -> None:
    with (
        receiver() as hook,
        served_monitor(
            f"sqlite:///{tmp_path / 'ops.db'}",
            alerts=targets(
                {"url": hook.url, "throttle": "1h", "events": ["issue.new", "issue.regressed"]}
            ),
        ) as monitor,
    ):
        monitor.push(errors(3, start=NOW - timedelta(minutes=30), step=timedelta(seconds=1)))
        monitor.client.scan("full")
        hook.wait_for(1, timeout=10)
        [issue] = monitor.client.open_issues()
        monitor.client.resolve_issue(issue.id, "deployed a fix")
        after_fix = datetime.now(UTC) + timedelta(seconds=5)
        monitor.push(errors(3, start=after_fix, step=timedelta(seconds=1)))
        monitor.client.scan("incremental")
        assert monitor.server.app.state.alerts.drain()
        history = [e.kind.value for e in monitor.oncall.issue_detail(issue.id).history]
        deliveries = monitor.oncall.deliveries()

    assert history == ["new", "resolved", "regressed"]
    assert [(d.event, d.status) for d in reversed(deliveries)] == [
        ("issue.new", "delivered"),
        ("issue.regressed", "throttled"),
    ]
    assert [r.body["event"] for r in hook.requests] == ["issue.new"]


def test_levels_and_events_pick_the_targets(tmp_path: Path) -> None:
    with (
        receiver() as wanted,
        receiver() as critical_only,
        served_monitor(
            f"sqlite:///{tmp_path / 'ops.db'}",
            alerts=targets(
                {
                    "url": wanted.url,
                    "kind": "slack",
                    "events": ["issue.new"],
                    "min_level": "medium",
                },
                {"url": critical_only.url, "min_level": "critical"},
            ),
        ) as monitor,
    ):
        monitor.push(errors(3, start=NOW - timedelta(minutes=3), step=timedelta(seconds=1)))
        monitor.client.scan("full")
        [message] = wanted.wait_for(1, timeout=10)
        assert monitor.server.app.state.alerts.drain()

    assert critical_only.requests == []  # a medium issue is below its level
    assert message.body["text"].startswith("*New issue* (medium): Errors in checkout: POST")
    assert set(message.body) == {"text", "unfurl_links"}


def test_redirects_are_not_followed_only_configured_urls_are_called(tmp_path: Path) -> None:
    with receiver() as elsewhere, receiver(answers=[302]) as hook:
        hook.location = elsewhere.url
        with served_monitor(
            f"sqlite:///{tmp_path / 'ops.db'}", alerts=targets({"url": hook.url})
        ) as monitor:
            monitor.push(errors(2, start=NOW - timedelta(minutes=3), step=timedelta(seconds=1)))
            monitor.client.scan("full")
            hook.wait_for(1, timeout=10)
            assert monitor.server.app.state.alerts.drain()
            [delivery] = monitor.oncall.deliveries()

    assert elsewhere.requests == []
    assert (delivery.status, delivery.attempts, delivery.response_status) == ("failed", 1, 302)


def test_an_issue_whose_rate_jumps_over_its_baseline_escalates(tmp_path: Path) -> None:
    hour = timedelta(hours=1)
    last_hour = NOW - hour
    baseline = errors(60, start=last_hour - 30 * hour, step=hour / 2)  # 2 an hour, 30 hours
    burst = errors(30, start=last_hour + timedelta(minutes=1), step=timedelta(seconds=60))
    with (
        receiver() as hook,
        served_monitor(
            f"sqlite:///{tmp_path / 'ops.db'}",
            alerts=targets({"url": hook.url, "throttle": 0, "events": ["issue.escalating"]}),
        ) as monitor,
    ):
        monitor.push(baseline)
        monitor.client.scan("full")
        assert monitor.server.app.state.alerts.drain()
        monitor.push(burst)
        monitor.client.scan("incremental")
        [alert] = hook.wait_for(1, timeout=10)
        assert monitor.server.app.state.alerts.drain()
        [issue] = [i for i in monitor.client.open_issues() if i.title.startswith("Errors")]
        kinds = [e.kind.value for e in monitor.oncall.issue_detail(issue.id).history]

    assert kinds == ["new", "escalating"]
    assert alert.body["event"] == "issue.escalating"
    assert "in the last 1 h against a mean of 2.0 over the 24 windows" in alert.body["note"]
    assert len(hook.requests) == 1


def test_escalation_needs_a_rate_over_the_baseline_and_a_history() -> None:
    rule = EscalationRule(factor=5, min_count=10)
    last = datetime(2026, 1, 2, 12, tzinfo=UTC)
    old = last - timedelta(days=5)
    hourly = [int((last - timedelta(hours=h)).timestamp() * 1e6) for h in range(1, 25)]
    burst = [int((last - timedelta(minutes=m)).timestamp() * 1e6) for m in range(12)]

    assert escalation(hourly + burst, last, old, rule) is not None  # 12 vs 1 an hour
    assert escalation(hourly + burst[:4], last, old, rule) is None  # under min_count
    assert escalation(hourly * 4 + burst, last, old, rule) is None  # 16 vs 4: under 5x
    assert escalation(burst, last, last - timedelta(hours=2), rule) is None  # young: new
    assert escalation(burst, last, old, rule) is not None  # quiet for a day, then fires


def test_notify_sends_cron_events_to_the_targets_that_want_them(tmp_path: Path) -> None:
    with (
        receiver() as hook,
        served_monitor(
            f"sqlite:///{tmp_path / 'ops.db'}",
            alerts=targets(
                {"url": hook.url, "events": ["cron.missed", "cron.failed"], "throttle": 0}
            ),
        ) as monitor,
    ):
        payload = {"subject": "monitor:nightly", "title": "nightly missed 02:00", "episode": "t1"}
        assert alerts.notify("cron.missed", payload)
        assert alerts.notify("cron.missed", payload)  # the same tick twice: delivered once
        assert alerts.notify("cron.timed_out", payload | {"episode": "t2"})  # not wanted
        assert alerts.notify("cron.failed", payload | {"episode": "t3", "level": "low"})
        arrived = hook.wait_for(2, timeout=10)
        assert monitor.server.app.state.alerts.drain()
    assert not alerts.notify("cron.failed", payload)  # no dispatcher runs any more

    assert [(r.body["event"], r.body["subject"]) for r in arrived] == [
        ("cron.missed", "monitor:nightly"),
        ("cron.failed", "monitor:nightly"),
    ]
    assert len(hook.requests) == 2


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"kind": "slack"}, r"alerts\[0\]\.url"),
        ({"url": "ftp://example.invalid/x"}, r"alerts\[0\]\.url: expected an http"),
        ({"url": "http://127.0.0.1/x", "kind": "teams"}, r"alerts\[0\]\.kind"),
        ({"url": "http://127.0.0.1/x", "events": ["issue.nwe"]}, "unknown event 'issue.nwe'"),
        ({"url": "http://127.0.0.1/x", "min_level": "urgent"}, r"alerts\[0\]\.min_level"),
        ({"url": "http://127.0.0.1/x", "throttle": "soon"}, r"alerts\[0\]\.throttle"),
        ({"url": "http://127.0.0.1/x", "retries": 3}, "unknown key 'retries'"),
    ],
)
def test_bad_alert_configuration_names_the_entry_and_field(
    entry: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        Settings().merged({"alerts": [entry]}, "ops-monitor.yaml")


def test_alert_configuration_from_a_file(tmp_path: Path) -> None:
    config = tmp_path / "ops-monitor.yaml"
    config.write_text(
        "alerts:\n"
        "  - url: https://hooks.slack.com/services/T0/B0/secret\n"
        "    kind: slack\n"
        "    events: [issue.new]\n"
        "    throttle: 10m\n"
    )

    [rule] = Settings.load(config, environ={}).alerts

    assert (rule.kind, rule.events, rule.throttle_seconds) == ("slack", ("issue.new",), 600.0)
    assert rule.target == "https://hooks.slack.com/services/…"  # the secret path is not shown


def test_alerts_test_command_reports_each_target(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with receiver() as good, receiver(answers=[404]) as bad:
        config = tmp_path / "ops-monitor.yaml"
        config.write_text(f"alerts:\n  - url: {good.url}\n  - url: {bad.url}\n    kind: slack\n")
        monkeypatch.setenv("OPS_MONITOR_CONFIG", str(config))
        db = f"sqlite:///{tmp_path / 'ops.db'}"

        status = main(["alerts", "test", "--db", db])
        out = capsys.readouterr().out
        assert main(["alerts", "deliveries", "--db", db]) == 0
        listing = capsys.readouterr().out

    assert status == 1
    assert f"delivered: {good.url.rsplit('/', 1)[0]}/hook (generic, answer 200, 1 attempt)" in out
    assert "failed: " in out
    assert "answered 404" in out
    assert [r.body["event"] for r in good.requests] == ["test"]
    assert "test" in listing
    assert "delivered" in listing
