"""The on-call service and alert dispatcher the app runs, for routes (and the console) to inject.

Started with the app (`oncall_lifespan`) on the service's store: it records issue history and
sends alerts after each scan commits. A service without a store (a test double) gets neither,
and the routes that need them answer 503.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from starlette.exceptions import HTTPException
from starlette.requests import HTTPConnection

from ops_monitor import alerts
from ops_monitor.alerts.dispatcher import AlertDispatcher
from ops_monitor.config import Settings
from ops_monitor.oncall.service import OnCallService
from ops_monitor.oncall.timeline import EscalationRule
from ops_monitor.store import Store

log = logging.getLogger(__name__)


class OnCallUnavailable(HTTPException):
    """The app runs without a database of its own (a test double); answered with 503."""

    def __init__(self, detail: str) -> None:
        super().__init__(503, detail)


def get_oncall(connection: HTTPConnection) -> OnCallService:
    found = getattr(connection.app.state, "oncall", None)
    if not isinstance(found, OnCallService):
        raise OnCallUnavailable("this server runs without the on-call service")
    return found


def optional_oncall(connection: HTTPConnection) -> OnCallService | None:
    found = getattr(connection.app.state, "oncall", None)
    return found if isinstance(found, OnCallService) else None


def get_dispatcher(connection: HTTPConnection) -> AlertDispatcher:
    found = getattr(connection.app.state, "alerts", None)
    if not isinstance(found, AlertDispatcher):
        raise OnCallUnavailable("this server runs without the alert dispatcher")
    return found


def _chained(
    first: Callable[[Any], None] | None, then: Callable[[Any], None]
) -> Callable[[Any], None]:
    def after_scan(result: Any) -> None:
        try:
            if first is not None:
                first(result)  # the broadcast, as before
        finally:
            then(result)

    return after_scan


def oncall_lifespan(settings: Settings) -> Callable[[FastAPI], Any]:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        service = app.state.service
        store = getattr(service, "store", None)
        if not isinstance(store, Store):
            yield
            return
        oncall = OnCallService(
            store,
            escalation_rule=EscalationRule(
                factor=settings.spike_factor, min_count=settings.spike_min_count
            ),
            slow_request_ms=settings.slow_request_ms,
        )
        dispatcher = AlertDispatcher(settings.alerts, store, oncall)
        previous = getattr(service, "on_scan_completed", None)
        service.on_scan_completed = _chained(previous, dispatcher.scan_committed)
        app.state.oncall, app.state.alerts = oncall, dispatcher
        dispatcher.start()
        alerts.install(dispatcher)
        try:
            yield
        finally:
            alerts.uninstall(dispatcher)
            service.on_scan_completed = previous
            dispatcher.stop()

    return lifespan
