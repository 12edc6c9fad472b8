"""Fixtures for the API tests: an app over a recording service double, reached in-process."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry

from ops_monitor.api.app import create_app
from ops_monitor.api.deps import get_service
from ops_monitor.config import Settings

from .doubles import RecordingService
from .live_monitor import db_url  # noqa: F401 - a fixture: pytest finds it by name


@dataclass
class RouteHarness:
    app: FastAPI
    client: TestClient
    service: RecordingService


MakeHarness = Callable[..., RouteHarness]


def app_with_double(
    tmp_path: Path, token: str | None = None, max_push_bytes: int = 64 * 1024
) -> tuple[FastAPI, RecordingService]:
    """An app whose service dependency is the recording double, wired to its broadcaster."""
    settings = Settings(
        db_url=f"sqlite:///{tmp_path / 'ops.db'}", token=token, max_push_bytes=max_push_bytes
    )
    double = RecordingService()
    app = create_app(settings, service=double, registry=CollectorRegistry())
    double.on_scan_completed = app.state.broadcaster.publish
    app.dependency_overrides[get_service] = lambda: double
    return app, double


@pytest.fixture
def make_routes(tmp_path: Path) -> Iterator[MakeHarness]:
    """Build an app with the service double injected through `dependency_overrides`."""
    clients: list[TestClient] = []

    def make(token: str | None = None, max_push_bytes: int = 64 * 1024) -> RouteHarness:
        app, double = app_with_double(tmp_path, token, max_push_bytes)
        client = TestClient(app, raise_server_exceptions=False)
        client.__enter__()
        clients.append(client)
        return RouteHarness(app, client, double)

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def routes(make_routes: MakeHarness) -> RouteHarness:
    return make_routes()
