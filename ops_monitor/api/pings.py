"""healthchecks-style pings: `GET|POST /ping/{key}[/start|/fail|/{exit_status}]`, no bearer token.

The key is the monitor's own secret, so a Worker's `scheduled()` needs nothing else to check in.
`/start` opens a run, `/ping/{key}` closes it as ok, `/fail` as error, and an exit status as ok
when 0 and error otherwise; `?rid=` names the run, for overlapping runs. The request body (a
script's output, say) is kept as the run's log excerpt, up to `EXCERPT_BYTES`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from starlette.concurrency import run_in_threadpool

from ops_monitor.api.errors import PayloadTooLarge, error_responses
from ops_monitor.api.monitors import get_monitors
from ops_monitor.monitors.service import CronMonitors, MonitorNotFound
from ops_monitor.monitors.views import CheckinAccepted

router = APIRouter(tags=["pings"])
EXCERPT_BYTES = 10_000
MAX_PING_BYTES = 1_000_000
_RESPONSES = error_responses(400, 404, 413)
RunId = Annotated[str | None, Query(min_length=1, max_length=100, description="run id")]


async def _excerpt(request: Request) -> str | None:
    kept = bytearray()
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_PING_BYTES:
            raise PayloadTooLarge(MAX_PING_BYTES)
        if len(kept) < EXCERPT_BYTES:
            kept += chunk[: EXCERPT_BYTES - len(kept)]
    text = kept.decode("utf-8", errors="replace").strip()
    return text or None


async def _ping(
    request: Request,
    monitors: CronMonitors,
    key: str,
    status: str,
    exit_status: int | None,
    rid: str | None,
) -> CheckinAccepted:
    excerpt = await _excerpt(request)

    def record() -> CheckinAccepted:
        slug, checkin_id = monitors.ping(
            key, status, excerpt=excerpt, exit_status=exit_status, run_id=rid
        )
        return CheckinAccepted(checkin_id=checkin_id, monitor=slug)

    try:
        return await run_in_threadpool(record)
    except MonitorNotFound:
        raise HTTPException(404, "no monitor has this ping key") from None


Monitors = Annotated[CronMonitors, Depends(get_monitors)]


@router.get("/ping/{key}", responses=_RESPONSES)
@router.post("/ping/{key}", responses=_RESPONSES)
async def ping_success(
    key: str, request: Request, monitors: Monitors, rid: RunId = None
) -> CheckinAccepted:
    """The run finished well (closes the latest run started, or the one named by `rid`)."""
    return await _ping(request, monitors, key, "ok", None, rid)


@router.get("/ping/{key}/start", responses=_RESPONSES)
@router.post("/ping/{key}/start", responses=_RESPONSES)
async def ping_start(
    key: str, request: Request, monitors: Monitors, rid: RunId = None
) -> CheckinAccepted:
    """A run started: `max_runtime` counts from now."""
    return await _ping(request, monitors, key, "in_progress", None, rid)


@router.get("/ping/{key}/fail", responses=_RESPONSES)
@router.post("/ping/{key}/fail", responses=_RESPONSES)
async def ping_fail(
    key: str, request: Request, monitors: Monitors, rid: RunId = None
) -> CheckinAccepted:
    """The run failed."""
    return await _ping(request, monitors, key, "error", None, rid)


@router.get("/ping/{key}/{exit_status}", responses=_RESPONSES)
@router.post("/ping/{key}/{exit_status}", responses=_RESPONSES)
async def ping_exit_status(
    key: str,
    exit_status: Annotated[int, Path(ge=0, le=255)],
    request: Request,
    monitors: Monitors,
    rid: RunId = None,
) -> CheckinAccepted:
    """The run ended with this exit status (0 to 255): 0 is ok, anything else an error."""
    return await _ping(
        request, monitors, key, "ok" if exit_status == 0 else "error", exit_status, rid
    )
