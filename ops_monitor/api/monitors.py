"""The cron monitors' routes (bearer token): declare, check in, read, pause, resume, evaluate.

`POST /api/ops/monitors/{slug}/checkins` takes Sentry's check-in (`in_progress`, `ok`, `error`, an
optional `checkin_id` that a later check-in closes, `duration`, `monitor_config` to create or
update the monitor) and answers 202 with the check-in id.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Annotated, TypeVar

from fastapi import APIRouter, Depends, HTTPException, Query
from starlette.concurrency import run_in_threadpool
from starlette.requests import HTTPConnection

from ops_monitor.api.errors import error_responses
from ops_monitor.monitors.config import MonitorConfigError, parse_monitor_config
from ops_monitor.monitors.service import CheckinRefused, CronMonitors, MonitorNotFound
from ops_monitor.monitors.views import (
    CheckinAccepted,
    CheckinRequest,
    DeclaredMonitor,
    MonitorDetail,
    MonitorRequest,
    MonitorView,
    StateChange,
)

router = APIRouter(tags=["monitors"])
T = TypeVar("T")
MAX_WINDOW_HOURS = 24 * 366


def get_monitors(connection: HTTPConnection) -> CronMonitors:
    monitors = getattr(connection.app.state, "monitors", None)
    if not isinstance(monitors, CronMonitors):
        raise HTTPException(503, "cron monitors are not enabled on this server")
    return monitors


Monitors = Annotated[CronMonitors, Depends(get_monitors)]
Window = Annotated[float, Query(gt=0, le=MAX_WINDOW_HOURS, description="hours counted")]


async def _call(action: Callable[[], T]) -> T:
    """Run a service call in the threadpool, with its expected errors as 4xx answers."""
    try:
        return await run_in_threadpool(action)
    except MonitorNotFound as error:
        raise HTTPException(404, str(error)) from None
    except (MonitorConfigError, CheckinRefused) as error:
        raise HTTPException(400, str(error)) from None


@router.get(
    "/api/ops/monitors", response_model=list[MonitorView], responses=error_responses(400, 401)
)
async def list_monitors(monitors: Monitors, window_hours: Window = 24) -> list[MonitorView]:
    """Every monitor: state, next expected run, and runs by status within the window."""
    return await _call(lambda: monitors.monitors(timedelta(hours=window_hours)))


@router.get(
    "/api/ops/monitors/{slug}",
    response_model=MonitorDetail,
    responses=error_responses(400, 401, 404),
)
async def show_monitor(
    slug: str,
    monitors: Monitors,
    limit: Annotated[int, Query(ge=1, le=500)] = 20,
    window_hours: Window = 24,
) -> MonitorDetail:
    """One monitor with its ping key and its latest check-ins, durations included."""
    window = timedelta(hours=window_hours)
    return await _call(lambda: monitors.monitor(slug, limit=limit, window=window))


@router.put(
    "/api/ops/monitors/{slug}",
    response_model=DeclaredMonitor,
    responses=error_responses(400, 401),
)
async def declare_monitor(slug: str, body: MonitorRequest, monitors: Monitors) -> DeclaredMonitor:
    """Create a monitor or update its configuration; its ping key and history stay."""

    def declare() -> DeclaredMonitor:
        config = parse_monitor_config(body.monitor_config)
        return monitors.declare(slug, config, origin="api", since=body.since)

    return await _call(declare)


@router.post(
    "/api/ops/monitors/{slug}/checkins",
    status_code=202,
    response_model=CheckinAccepted,
    responses=error_responses(400, 401, 404),
)
async def check_in(slug: str, body: CheckinRequest, monitors: Monitors) -> CheckinAccepted:
    """Record a check-in; a later `ok` or `error` with the same `checkin_id` closes that run."""

    def record() -> CheckinAccepted:
        checkin_id = monitors.check_in(
            slug,
            body.status,
            checkin_id=body.checkin_id,
            duration=body.duration,
            monitor_config=body.monitor_config,
            timestamp=body.timestamp,
        )
        return CheckinAccepted(checkin_id=checkin_id, monitor=slug)

    return await _call(record)


@router.post(
    "/api/ops/monitors/{slug}/pause",
    response_model=MonitorView,
    responses=error_responses(401, 404),
)
async def pause_monitor(slug: str, monitors: Monitors) -> MonitorView:
    """Stop expecting runs (nothing is missed while paused)."""
    return await _call(lambda: monitors.pause(slug))


@router.post(
    "/api/ops/monitors/{slug}/resume",
    response_model=MonitorView,
    responses=error_responses(401, 404),
)
async def resume_monitor(slug: str, monitors: Monitors) -> MonitorView:
    """Expect runs again, from now on."""
    return await _call(lambda: monitors.resume(slug))


@router.post(
    "/api/ops/monitors/evaluate",
    response_model=list[StateChange],
    responses=error_responses(401),
)
async def evaluate_monitors(monitors: Monitors) -> list[StateChange]:
    """Evaluate every monitor now (the scheduler does every 30 s); the state changes it made."""
    return await _call(monitors.evaluate)
