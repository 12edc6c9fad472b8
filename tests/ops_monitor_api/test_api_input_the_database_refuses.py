"""Input PostgreSQL would refuse (NUL, lone surrogates, more parameters than a query may have) is
a 400 naming the field on both backends, decided before any query runs."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from .live_monitor import RunningMonitor, records, running_monitor


@pytest.fixture
def monitor(db_url: str) -> Iterator[RunningMonitor]:
    with running_monitor(db_url) as running:
        yield running


@pytest.fixture
def http(monitor: RunningMonitor) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=monitor.server.url, timeout=60) as client:
        yield client


@pytest.mark.parametrize("source", ["check\x00out", "\x00"])
def test_nul_in_the_issues_source_filter_is_400(http: httpx.Client, source: str) -> None:
    response = http.get("/api/ops/issues", params={"source": source})

    assert response.status_code == 400
    assert response.json()["error"].startswith("query parameter source: ")
    assert "NUL" in response.json()["error"]


@pytest.mark.parametrize("resolution", ["fixed\x00", "\ud800 fixed"])
def test_nul_or_a_lone_surrogate_in_a_resolution_is_400(
    monitor: RunningMonitor, http: httpx.Client, resolution: str
) -> None:
    monitor.push(records("db", 3))
    monitor.scan("full")
    issue = monitor.client.open_issues()[0]
    body = json.dumps({"resolution": resolution})  # \u0000 and \ud800 escapes

    response = http.post(
        f"/api/ops/issues/{issue.id}/resolve",
        content=body,
        headers={"Content-Type": "application/json"},
    )

    assert response.status_code == 400
    assert response.json()["error"].startswith("resolution: ")
    assert [i.id for i in monitor.client.open_issues()] == [issue.id]  # still open


@pytest.mark.parametrize("field", ["sources", "levels"])
@pytest.mark.parametrize("count", [1001, 65_536])
def test_a_scan_filter_with_too_many_values_is_400(
    monitor: RunningMonitor, http: httpx.Client, field: str, count: int
) -> None:
    values = [f"s{i}" for i in range(count)]

    response = http.post("/api/ops/scan", json={"scope": "full", "filters": {field: values}})

    assert response.status_code == 400
    assert response.json()["error"].startswith(f"filters.{field}: ")
    assert "at most 1000" in response.json()["error"]
    assert monitor.client.recent_scans() == []


def test_a_scan_filter_of_1000_values_runs(monitor: RunningMonitor, http: httpx.Client) -> None:
    monitor.push(records("db", 3))
    sources = ["checkout", *(f"s{i}" for i in range(999))]

    response = http.post("/api/ops/scan", json={"scope": "full", "filters": {"sources": sources}})

    assert response.status_code == 200
    assert response.json()["logs_processed"] == 3
