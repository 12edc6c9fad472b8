"""`GET /healthz`: liveness and database health for load balancers and the client; no token.

It answers within a second whatever the database does: `ok` (200) when the database answered,
`degraded` (503, with `Retry-After` and the reason in `error`) when it did not.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from ops_monitor.api.database_health import DatabaseProbe, get_probe

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str
    running_scan_id: int | None = None


class Degraded(BaseModel):
    status: str = "degraded"
    error: str


@router.get(
    "/healthz",
    response_model=Health,
    responses={503: {"model": Degraded, "description": "The database does not answer"}},
)
async def healthz(probe: Annotated[DatabaseProbe, Depends(get_probe)]) -> Health | JSONResponse:
    result = await probe.check()
    if result.answered:
        return Health(status="ok", running_scan_id=result.running_scan_id)
    return JSONResponse(
        Degraded(error=result.reason or "unknown").model_dump(),
        status_code=503,
        headers={"Retry-After": str(probe.health.retry_after)},
    )
