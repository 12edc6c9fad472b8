"""The FastAPI application factory for the ops routes.

`create_app` wires the service, the broadcaster, auth and error handling together and nothing
else; extra routers (the scheduler's `/api/ops/cron`) and lifespan hooks (the scheduler's loop)
are passed in by whoever assembles the server, so this package never imports them.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from fastapi import APIRouter, Depends, FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse, JSONResponse
from prometheus_client import CollectorRegistry

from ops_monitor.api import broadcast, health, issues, logs, metrics, scans
from ops_monitor.api.auth import require_token
from ops_monitor.api.broadcast_hub import Broadcaster
from ops_monitor.api.deps import MonitorService
from ops_monitor.api.errors import install_error_handlers
from ops_monitor.config import Settings

LifespanHook = Callable[[FastAPI], AbstractAsyncContextManager[None]]
"""Entered after the service is ready, exited (in reverse order) before it closes; the app's
`state.service` and `state.broadcaster` are available to it."""

_VALIDATION_SCHEMAS = ("HTTPValidationError", "ValidationError")


def _default_registry() -> CollectorRegistry:
    from ops_monitor.metrics import REGISTRY

    return REGISTRY


@asynccontextmanager
async def _owned_service(app: FastAPI, settings: Settings) -> AsyncIterator[None]:
    """Open the store named by the settings for the app's lifetime, and close it after."""
    from ops_monitor.service import OpsMonitorService
    from ops_monitor.store import Store

    store = Store(settings.db_url)
    try:
        await asyncio.to_thread(store.migrate)
        app.state.service = OpsMonitorService.from_settings(
            store, settings, on_scan_completed=app.state.broadcaster.publish
        )
        yield
    finally:
        store.close()


def _lifespan(
    settings: Settings, owns_service: bool, hooks: Sequence[LifespanHook]
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.broadcaster.attach(asyncio.get_running_loop())
        async with contextlib.AsyncExitStack() as stack:
            stack.callback(app.state.broadcaster.detach)
            if owns_service:
                await stack.enter_async_context(_owned_service(app, settings))
            for hook in hooks:
                await stack.enter_async_context(hook(app))
            yield

    return lifespan


def _openapi_without_422(app: FastAPI) -> Callable[[], dict[str, Any]]:
    """Our validation errors are 400 `{"error"}` (documented per route), never FastAPI's 422."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title, version=app.version, description=app.description, routes=app.routes
            )
            for path in schema.get("paths", {}).values():
                for operation in path.values():
                    operation.get("responses", {}).pop("422", None)
            for name in _VALIDATION_SCHEMAS:
                schema.get("components", {}).get("schemas", {}).pop(name, None)
            app.openapi_schema = schema
        return app.openapi_schema

    return openapi


def create_app(
    settings: Settings,
    service: MonitorService | None = None,
    *,
    broadcaster: Broadcaster | None = None,
    registry: CollectorRegistry | None = None,
    routers: Sequence[APIRouter] = (),
    lifespans: Sequence[LifespanHook] = (),
    public_routers: Sequence[APIRouter] = (),
) -> FastAPI:
    """The ops monitor's HTTP API.

    `public_routers` skip the bearer token: they authenticate their callers themselves.
    Without `service`, one is built at startup on `settings.db_url` with its completed scans
    wired to the broadcaster. A caller that brings its own service should build it with
    `on_scan_completed=broadcaster.publish` and pass that broadcaster too.
    """
    app = FastAPI(
        title="ops-monitor",
        version="1",
        description="Ingest logs, scan them for issues, and follow the results live.",
        lifespan=_lifespan(settings, service is None, lifespans),
        openapi_url=None,  # served below, behind the token like every route but /healthz
        docs_url=None,
        redoc_url=None,
    )
    app.state.service = service
    app.state.broadcaster = broadcaster or Broadcaster()
    app.state.registry = registry if registry is not None else _default_registry()
    app.state.token = settings.token or None
    app.state.max_push_bytes = settings.max_push_bytes
    install_error_handlers(app)

    guarded = [Depends(require_token)]
    app.include_router(health.router)
    app.include_router(broadcast.router)  # checks the token itself: header or ?token=
    for router in public_routers:  # authenticated otherwise (a cron monitor's ping key)
        app.include_router(router)
    for router in (scans.router, issues.router, logs.router, metrics.router, *routers):
        app.include_router(router, dependencies=guarded)
    app.openapi = _openapi_without_422(app)  # type: ignore[method-assign]

    @app.get("/openapi.json", include_in_schema=False, dependencies=guarded)
    def openapi_document() -> JSONResponse:
        return JSONResponse(app.openapi())

    # Guarded like every route but /healthz (ReDoc is not served at all). A browser cannot add
    # the bearer header, so with a token set the page is for API clients and proxies that add it.
    @app.get("/docs", include_in_schema=False, dependencies=guarded)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/openapi.json", title="ops-monitor API")

    return app
