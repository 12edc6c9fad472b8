"""The client's calls without I/O: what each route sends, and the retry decisions of an exchange."""

from __future__ import annotations

import httpx
import pytest

from ops_monitor.client import (
    SCAN_TIMEOUT,
    Exchange,
    MonitorBusy,
    MonitorUnavailable,
    RetryPolicy,
    Routes,
    Wait,
)

POLICY = RetryPolicy(attempts=3, base_delay=1.0, max_delay=4.0)
HEALTHY = {"status": "ok", "running_scan_id": None}


def answer(status: int, body: object) -> httpx.Response:
    return httpx.Response(status, json=body)


def test_a_scan_is_a_post_with_the_long_timeout_and_is_never_retried() -> None:
    call = Routes.scan("full", {"sources": ["api"]})
    assert call.request() == {
        "method": "POST",
        "url": "/api/ops/scan",
        "json": {"scope": "full", "filters": {"sources": ["api"]}},
        "timeout": SCAN_TIMEOUT,
    }
    assert not call.retryable


def test_a_listing_sends_only_the_filters_given() -> None:
    call = Routes.open_issues(limit=5, severity="critical")
    assert call.request() == {
        "method": "GET",
        "url": "/api/ops/issues",
        "params": {"limit": 5, "offset": 0, "severity": "critical"},
    }
    assert call.retryable


def test_a_read_waits_with_backoff_after_retryable_answers_then_decodes() -> None:
    exchange = Exchange(Routes.health(), POLICY)
    first = exchange.after(answer(503, {"error": "warming up"}))
    second = exchange.after(MonitorUnavailable("GET /healthz: refused"))
    assert isinstance(first, Wait)
    assert 0.5 <= first.seconds <= 1.0
    assert isinstance(second, Wait)
    assert 1.0 <= second.seconds <= 2.0
    health = exchange.after(answer(200, HEALTHY))
    assert not isinstance(health, Wait)
    assert health.status == "ok"


def test_the_last_attempt_of_a_read_gives_the_error_it_got() -> None:
    exchange = Exchange(Routes.health(), RetryPolicy(attempts=2))
    assert isinstance(exchange.after(MonitorUnavailable("down")), Wait)
    with pytest.raises(MonitorUnavailable, match="down"):
        exchange.after(MonitorUnavailable("down"))


def test_a_write_is_decided_on_its_first_answer() -> None:
    busy = Exchange(Routes.scan(), POLICY)
    with pytest.raises(MonitorBusy) as raised:
        busy.after(answer(409, {"error": "scan 4 is already running", "running_scan_id": 4}))
    assert raised.value.running_scan_id == 4
    with pytest.raises(MonitorUnavailable):
        Exchange(Routes.resolve_issue(1, "fixed"), POLICY).after(MonitorUnavailable("refused"))
