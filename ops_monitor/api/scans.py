"""`POST /api/ops/scan` runs a scan and answers with its result; `GET /api/ops/scans` lists them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import Field, field_validator
from starlette.concurrency import run_in_threadpool

from ops_monitor.api.deps import MonitorService, get_service
from ops_monitor.api.errors import ScanFailed, error_responses
from ops_monitor.api.validation import MAX_FILTER_VALUES, StorableText
from ops_monitor.models import ScanFilters, ScanRequest, ScanResult

router = APIRouter(tags=["scans"])

API_TRIGGER = "api"
# Filters are stored with the scan and sent to the database as parameters: checked here, not
# after the scan started. One list of at most MAX_FILTER_VALUES values.
FilterValues = Annotated[list[StorableText], Field(max_length=MAX_FILTER_VALUES)]


class ScanFiltersBody(ScanFilters):
    """`ScanFilters` as the API reads it: times only as ISO 8601 text, as the schema says
    (pydantic alone would also take a bare number as Unix time)."""

    @field_validator("since", "until", mode="before")
    @classmethod
    def _iso_text_only(cls, value: object) -> object:
        if value is not None and not isinstance(value, str):
            raise ValueError("expected an ISO 8601 date-time string")
        return value

    sources: FilterValues | None = None
    levels: FilterValues | None = None


class ScanRequestBody(ScanRequest):
    filters: ScanFiltersBody = Field(default_factory=ScanFiltersBody)


@router.post(
    "/api/ops/scan", response_model=ScanResult, responses=error_responses(400, 401, 409, 500)
)
async def scan(
    request: ScanRequestBody, service: Annotated[MonitorService, Depends(get_service)]
) -> ScanResult:
    """Run a full or incremental scan now and wait for its result (409 while one runs)."""
    result = await run_in_threadpool(
        service.run_scan,
        request.scope,
        ScanFilters.model_validate(request.filters.model_dump()),
        trigger=API_TRIGGER,
    )
    if result.status == "failed":
        raise ScanFailed(result)
    return result


@router.get("/api/ops/scans", response_model=list[ScanResult], responses=error_responses(400, 401))
async def recent_scans(
    service: Annotated[MonitorService, Depends(get_service)],
    limit: Annotated[int, Query(ge=1, le=500)] = 20,
) -> list[ScanResult]:
    """The most recent scans, newest first."""
    return await run_in_threadpool(service.recent_scans, limit)
