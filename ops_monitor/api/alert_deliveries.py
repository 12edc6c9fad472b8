"""`GET /api/ops/alerts/deliveries`: every alert delivery, newest first, with its outcome."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from starlette.concurrency import run_in_threadpool

from ops_monitor.api.errors import error_responses
from ops_monitor.api.oncall_deps import get_oncall
from ops_monitor.oncall.service import OnCallService
from ops_monitor.store.alert_deliveries import Delivery

router = APIRouter(tags=["alerts"])


@router.get(
    "/api/ops/alerts/deliveries",
    response_model=list[Delivery],
    responses=error_responses(400, 401, 503),
)
async def deliveries(
    oncall: Annotated[OnCallService, Depends(get_oncall)],
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    subject: Annotated[str | None, Query(max_length=200, description="e.g. issue:12")] = None,
) -> list[Delivery]:
    """Deliveries (delivered, failed, throttled, pending), newest first."""
    return await run_in_threadpool(oncall.deliveries, limit, subject)
