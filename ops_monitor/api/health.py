"""`GET /healthz`: liveness for load balancers and the client; never needs a token."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from ops_monitor.api.deps import MonitorService, get_service

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str
    running_scan_id: int | None = None


@router.get("/healthz", response_model=Health)
def healthz(service: Annotated[MonitorService, Depends(get_service)]) -> Health:
    return Health(status="ok", running_scan_id=service.running_scan_id())
