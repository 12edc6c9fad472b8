"""The ops routes over an injected service double: status codes, bodies, parameters passed on."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import APIRouter
from fastapi.responses import StreamingResponse
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry

from ops_monitor.api.app import create_app
from ops_monitor.config import Settings
from ops_monitor.models import IssueSeverity, IssueStatus, ScanFilters

from .conftest import MakeHarness, RouteHarness
from .doubles import RecordingService


def test_a_valid_scan_request_returns_the_scan_result(routes: RouteHarness) -> None:
    response = routes.client.post("/api/ops/scan", json={"scope": "full"})

    assert response.status_code == 200
    body = response.json()
    assert (body["scope"], body["status"], body["logs_processed"], body["issues_filed"]) == (
        "full",
        "completed",
        12,
        1,
    )


def test_run_scan_receives_the_scope_filters_and_api_trigger(routes: RouteHarness) -> None:
    routes.client.post(
        "/api/ops/scan",
        json={
            "scope": "incremental",
            "filters": {"sources": ["checkout"], "levels": ["error"]},
        },
    )

    assert routes.service.calls == [
        (
            "run_scan",
            ("incremental", ScanFilters(sources=["checkout"], levels=["error"]), "api"),
        )
    ]


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"scope": "weekly"}, "scope"),
        ({}, "scope"),
        ({"scope": "full", "filters": {"bogus": 1}}, "filters.bogus"),
        ({"scope": "full", "filters": {"since": "yesterday"}}, "filters.since"),
        ({"scope": "full", "filters": {"until": 1767225600}}, "filters.until"),
        ({"scope": "full", "extra": True}, "extra"),
    ],
)
def test_an_invalid_scan_body_is_a_400_naming_the_field(
    routes: RouteHarness, body: dict[str, object], named: str
) -> None:
    response = routes.client.post("/api/ops/scan", json=body)

    assert response.status_code == 400
    assert response.json()["error"].startswith(f"{named}: ")
    assert routes.service.calls == []


def test_a_missing_body_is_a_400_and_further_problems_are_counted(routes: RouteHarness) -> None:
    missing = routes.client.post("/api/ops/scan")
    several = routes.client.get("/api/ops/issues", params={"limit": 0, "offset": -1})

    assert (missing.status_code, missing.json()["error"]) == (400, "body: Field required")
    assert several.json()["error"].endswith("(and 1 more)")


def test_a_body_that_is_not_json_is_a_400(routes: RouteHarness) -> None:
    response = routes.client.post(
        "/api/ops/scan", content=b"{scope", headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 400
    assert "JSON" in response.json()["error"]


def test_a_service_failure_is_a_500_without_a_stack_trace(routes: RouteHarness) -> None:
    routes.service.failure = RuntimeError("disk on fire at /var/lib/secret")

    response = routes.client.post("/api/ops/scan", json={"scope": "full"})

    assert response.status_code == 500
    assert response.json() == {"error": "internal error (RuntimeError); see the monitor's log"}
    assert "Traceback" not in response.text


def test_a_scan_recorded_as_failed_is_a_500_naming_the_scan(routes: RouteHarness) -> None:
    routes.service.scan_status = "failed"

    response = routes.client.post("/api/ops/scan", json={"scope": "full"})

    assert response.status_code == 500
    assert response.json() == {"error": "scan 42 failed: database is locked", "scan_id": 42}


def test_a_scan_while_another_runs_is_a_409_with_its_id(routes: RouteHarness) -> None:
    routes.service.running = 17

    response = routes.client.post("/api/ops/scan", json={"scope": "incremental"})

    assert response.status_code == 409
    assert response.json() == {"error": "scan 17 is already running", "running_scan_id": 17}


def test_recent_scans_passes_the_limit_and_validates_it(routes: RouteHarness) -> None:
    assert routes.client.get("/api/ops/scans", params={"limit": 3}).json() == []
    too_many = routes.client.get("/api/ops/scans", params={"limit": 100000})

    assert routes.service.calls == [("recent_scans", 3)]
    assert too_many.status_code == 400
    assert too_many.json()["error"].startswith("query parameter limit: ")


def test_issues_are_listed_with_filters_and_pagination(routes: RouteHarness) -> None:
    response = routes.client.get(
        "/api/ops/issues",
        params={
            "limit": 1,
            "offset": 1,
            "status": "new",
            "severity": "high",
            "source": "checkout",
        },
    )

    assert [issue["id"] for issue in response.json()] == [2]
    assert routes.service.calls == [
        (
            "open_issues",
            (1, 1, IssueStatus.NEW, IssueSeverity.HIGH, None, "checkout"),
        )
    ]


def test_an_unknown_issue_filter_value_is_a_400(routes: RouteHarness) -> None:
    response = routes.client.get("/api/ops/issues", params={"severity": "apocalyptic"})

    assert response.status_code == 400
    assert response.json()["error"].startswith("query parameter severity: ")


def test_resolving_an_issue_returns_it_resolved(routes: RouteHarness) -> None:
    response = routes.client.post("/api/ops/issues/2/resolve", json={"resolution": "fixed in #12"})

    assert response.status_code == 200
    assert (response.json()["status"], response.json()["resolution"]) == (
        "resolved",
        "fixed in #12",
    )
    assert routes.service.calls == [("resolve_issue", (2, "fixed in #12"))]


def test_resolving_an_unknown_issue_is_a_404(routes: RouteHarness) -> None:
    response = routes.client.post("/api/ops/issues/99/resolve", json={"resolution": "x"})

    assert response.status_code == 404
    assert response.json() == {"error": "issue 99 does not exist"}


def test_resolving_without_a_resolution_is_a_400(routes: RouteHarness) -> None:
    response = routes.client.post("/api/ops/issues/1/resolve", json={})

    assert response.status_code == 400
    assert response.json()["error"].startswith("resolution: ")


def test_an_unknown_route_is_a_json_404(routes: RouteHarness) -> None:
    response = routes.client.get("/api/ops/nothing")

    assert response.status_code == 404
    assert response.json() == {"error": "Not Found"}


def test_healthz_reports_the_running_scan(routes: RouteHarness) -> None:
    routes.service.running = 5

    assert routes.client.get("/healthz").json() == {"status": "ok", "running_scan_id": 5}


def test_metrics_are_served_in_the_prometheus_format(routes: RouteHarness) -> None:
    response = routes.client.get("/metrics")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")


def test_the_openapi_schema_documents_400_instead_of_422(routes: RouteHarness) -> None:
    schema = routes.client.get("/openapi.json").json()
    assert routes.client.get("/openapi.json").json() == schema  # built once, then served

    scan = schema["paths"]["/api/ops/scan"]["post"]["responses"]
    assert set(scan) == {"200", "400", "401", "409", "500"}
    assert "HTTPValidationError" not in schema["components"]["schemas"]
    assert "/openapi.json" in routes.client.get("/docs").text


# ---------------------------------------------------------------- auth


def test_with_a_token_every_route_but_healthz_requires_it(make_routes: MakeHarness) -> None:
    routes = make_routes(token="s3cret")

    refused = [
        routes.client.post("/api/ops/scan", json={"scope": "full"}),
        routes.client.get("/api/ops/scans"),
        routes.client.get("/api/ops/issues"),
        routes.client.post("/api/ops/issues/1/resolve", json={"resolution": "x"}),
        routes.client.post("/api/ops/logs", json=[]),
        routes.client.get("/metrics"),
        routes.client.get("/openapi.json"),
        routes.client.get("/api/ops/scans", headers={"Authorization": "Bearer wrong"}),
        routes.client.get("/api/ops/scans", headers={"Authorization": "Basic s3cret"}),
    ]

    assert {r.status_code for r in refused} == {401}
    assert refused[0].headers["WWW-Authenticate"] == "Bearer"
    assert routes.service.calls == []
    assert routes.client.get("/healthz").status_code == 200
    allowed = routes.client.get("/api/ops/scans", headers={"Authorization": "Bearer s3cret"})
    assert allowed.status_code == 200


def test_a_failure_after_the_answer_started_is_not_papered_over(tmp_path: Path) -> None:
    extra = APIRouter()

    @extra.get("/api/ops/stream")
    def stream() -> StreamingResponse:
        def chunks() -> Iterator[bytes]:
            yield b"first part"
            raise RuntimeError("source went away")

        return StreamingResponse(chunks(), media_type="text/plain")

    app = create_app(
        Settings(db_url=f"sqlite:///{tmp_path / 'x.db'}"),
        service=RecordingService(),
        registry=CollectorRegistry(),
        routers=[extra],
    )

    with TestClient(app) as client, pytest.raises(RuntimeError, match="source went away"):
        client.get("/api/ops/stream")
