"""`GET /api/ops/cron`: each schedule's next run, last run and outcome, and whether it is late.

The readiness `monitor` gate reads this through `OpsMonitorClient.cron_status()`; the shape is
`CronStatus` (documented in `ops_monitor/scheduling/status.py`).
"""

from __future__ import annotations

from typing import Annotated, cast

from fastapi import APIRouter, Depends
from starlette.concurrency import run_in_threadpool
from starlette.requests import HTTPConnection

from ops_monitor.api.deps import get_service
from ops_monitor.api.errors import error_responses
from ops_monitor.ports import ScanHistory
from ops_monitor.scheduling.status import CronStatus, CronView

router = APIRouter(tags=["cron"])


def get_cron_view(connection: HTTPConnection) -> CronView:
    view = getattr(connection.app.state, "cron", None)
    return view if isinstance(view, CronView) else CronView(schedules=[])


def get_history(connection: HTTPConnection) -> ScanHistory:
    return cast(ScanHistory, get_service(connection))


@router.get("/api/ops/cron", response_model=CronStatus, responses=error_responses(401))
async def cron(
    view: Annotated[CronView, Depends(get_cron_view)],
    history: Annotated[ScanHistory, Depends(get_history)],
) -> CronStatus:
    """Cron health: a schedule is late when a tick was due after its last success (or after the
    scheduler started) and no success followed within the grace; never started: not late."""
    return await run_in_threadpool(view.status, history)
