"""Issue titles keep the route and method and mask only what varies; fingerprints do not move."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ops_monitor.analysis.candidates import CandidateCollector, RuleSettings, fingerprint
from ops_monitor.analysis.templates import TemplateMiner
from ops_monitor.analysis.titles import TitleShape
from ops_monitor.models import LogRecord
from ops_monitor.service import OpsMonitorService
from ops_monitor.store import Store

T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)


def shape_of(*messages: str) -> str:
    shape = TitleShape.of(messages[0])
    for message in messages[1:]:
        shape.add(message)
    return shape.text("TEMPLATE")


@pytest.mark.parametrize(
    ("messages", "title"),
    [
        (
            ("POST /api/orders/123 -> ok", "POST /api/orders/456 -> ok"),
            "POST /api/orders/<n> -> ok",
        ),
        (("GET /api/users/8f3a9b2c1d77 -> 500",), "GET /api/users/<id> -> 500"),
        (
            ("DELETE /v1/carts/0b9e6a52-3f1c-4d2e-9a51-7c2d0e6b1f00 failed",),
            "DELETE /v1/carts/<id> failed",
        ),
        (
            ("GET /api/items/5 -> 503", "GET /api/carts/9 -> 503"),
            "GET /api/<*>/<n> -> 503",
        ),
        (("timeout after 1001 ms", "timeout after 87 ms"), "timeout after <n> ms"),
        (("login failed for ann@example.com from 10.0.0.7",), "login failed for <*> from <*>"),
        (("GET /search?q=shoes&page=2 -> ok",), "GET /search?q=<*>&page=<*> -> ok"),
        (("short message", "a longer message here"), "TEMPLATE"),
    ],
)
def test_titles_mask_only_the_variable_parts(messages: tuple[str, ...], title: str) -> None:
    assert shape_of(*messages) == title


def collect(messages: list[str]) -> CandidateCollector:
    collector = CandidateCollector(RuleSettings(), TemplateMiner())
    for i, message in enumerate(messages):
        collector.add(1_000_000 * i, "orchestrator", "error", message, "ok", None)
    return collector


def test_candidates_are_titled_by_route_and_keep_the_miners_fingerprint() -> None:
    collector = collect([f"POST /api/orders/{n} -> ok" for n in (12, 345, 6789)])

    [candidate] = collector.candidates()

    assert candidate.title == "Errors in orchestrator: POST /api/orders/<n> -> ok"
    assert candidate.template == "POST <*> -> ok"
    assert candidate.fingerprint == fingerprint("error", "orchestrator", candidate.template_id)


def test_a_stored_issue_carries_the_readable_title(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'ops.db'}")
    service = OpsMonitorService(store)
    service.ingest(
        LogRecord(
            timestamp=T0 + timedelta(seconds=i),
            source="orchestrator",
            level="error",
            message=f"POST /api/runs/{100 + i}/steps -> ok",
        )
        for i in range(5)
    )
    service.run_scan("full")
    [issue] = service.open_issues()
    store.close()

    assert issue.title == "Errors in orchestrator: POST /api/runs/<n>/steps -> ok"
