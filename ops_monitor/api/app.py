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

from ops_monitor.api import (
    alert_deliveries,
    broadcast,
    docs_assets,
    health,
    issue_detail,
    issues,
    logs,
    logs_search,
    metrics,
    scans,
)
from ops_monitor.api.auth import require_token_or_session
from ops_monitor.api.broadcast_hub import Broadcaster
from ops_monitor.api.database_health import DatabaseHealth, DatabaseProbe, needs_database
from ops_monitor.api.deps import MonitorService
from ops_monitor.api.errors import error_response, install_error_handlers
from ops_monitor.api.oncall_deps import oncall_lifespan
from ops_monitor.api.request_gate import BodyLimits, RequestGate, SelfGuardedPaths
from ops_monitor.api.tickets import TicketBook
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

    store = Store(
        settings.db_url,
        connect_timeout=settings.db_connect_timeout_seconds,
        statement_timeout=settings.db_statement_timeout_seconds,
        pool_timeout=settings.db_pool_timeout_seconds,
    )
    try:
        await asyncio.to_thread(store.migrate)
        app.state.service = OpsMonitorService.from_settings(
            store, settings, on_scan_completed=app.state.broadcaster.publish
        )
        yield
    finally:
        store.close()


def _schema_repair(service: object) -> Callable[[], object] | None:
    """Migrating the service's store again, when it has one (a test double has none)."""
    migrate = getattr(getattr(service, "store", None), "migrate", None)
    return migrate if callable(migrate) else None


def _lifespan(
    settings: Settings, owns_service: bool, hooks: Sequence[LifespanHook]
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.broadcaster.attach(asyncio.get_running_loop())
        async with contextlib.AsyncExitStack() as stack:
            stack.callback(app.state.broadcaster.detach)
            stack.callback(app.state.database_probe.close)
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
        lifespan=_lifespan(settings, service is None, [oncall_lifespan(settings), *lifespans]),
        openapi_url=None,  # served below, behind the token like every route but /healthz
        docs_url=None,
        redoc_url=None,
    )
    app.state.service = service
    app.state.broadcaster = broadcaster or Broadcaster()
    app.state.registry = registry if registry is not None else _default_registry()
    app.state.token = settings.token or None
    app.state.max_push_bytes = settings.max_push_bytes
    app.state.tickets = TicketBook(app.state.token)
    app.state.database_health = DatabaseHealth()
    app.state.database_probe = DatabaseProbe(
        lambda: app.state.service.running_scan_id(), app.state.database_health
    )
    app.state.repair_schema = lambda: _schema_repair(app.state.service)
    app.state.repair_lock = asyncio.Lock()
    app.state.self_guarded = SelfGuardedPaths()
    install_error_handlers(app)
    # Outermost: the token and the body's size are checked before anything reads the body.
    app.add_middleware(
        RequestGate,
        token=lambda: app.state.token,
        self_guarded=app.state.self_guarded,
        limits=BodyLimits(
            default=settings.max_body_bytes, by_path={logs.PUSH_PATH: settings.max_push_bytes}
        ),
        respond=error_response,
    )

    # Every HTTP route but /healthz needs the token (RequestGate), except the pages that check a
    # console session themselves and the public routers (pings, keyed per monitor): both are
    # `self_guarded`. The WebSockets check their own.
    for router in public_routers:
        app.state.self_guarded.add_routes(router.routes)
    for router in (health.router, broadcast.router, metrics.router):
        app.include_router(router)
    database = [Depends(needs_database)]  # 503 at once while the database is known to be down
    for router in (
        scans.router,
        issues.router,
        issue_detail.router,
        logs.router,
        logs_search.router,
        alert_deliveries.router,
        *routers,
        *public_routers,
    ):
        app.include_router(router, dependencies=database)
    app.openapi = _openapi_without_422(app)  # type: ignore[method-assign]

    # The API document and its page: the bearer token, or a console session cookie (`GET
    # /login`), since a browser cannot add the header. Every asset is served from here; ReDoc is
    # not served at all.
    docs_access = [Depends(require_token_or_session)]
    app.include_router(docs_assets.router)
    app.state.self_guarded.add_prefix(docs_assets.PREFIX)
    app.state.self_guarded.add_exact("/docs", "/openapi.json")

    @app.get("/openapi.json", include_in_schema=False, dependencies=docs_access)
    def openapi_document() -> JSONResponse:
        return JSONResponse(app.openapi())

    @app.get("/docs", include_in_schema=False, dependencies=docs_access)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="ops-monitor API",
            swagger_js_url=docs_assets.url("swagger-ui-bundle.js"),
            swagger_css_url=docs_assets.url("swagger-ui.css"),
            swagger_favicon_url=docs_assets.url("favicon.png"),
            swagger_ui_parameters={"validatorUrl": None},
        )

    return app
