"""`GET /api/ops/issues` lists issues (filters, pagination); `POST .../{id}/resolve` closes one."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from ops_monitor.api.deps import MonitorService, get_service
from ops_monitor.api.errors import error_responses
from ops_monitor.api.validation import StorableText
from ops_monitor.models import Issue, IssueCategory, IssueSeverity, IssueStatus

router = APIRouter(tags=["issues"])

MAX_ID = 2**63 - 1  # the databases' BIGINT; larger ids cannot exist


class ResolveRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    resolution: StorableText = Field(min_length=1, max_length=2000)


@router.get("/api/ops/issues", response_model=list[Issue], responses=error_responses(400, 401))
async def open_issues(
    service: Annotated[MonitorService, Depends(get_service)],
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
    status: IssueStatus | None = None,
    severity: IssueSeverity | None = None,
    category: IssueCategory | None = None,
    source: Annotated[StorableText | None, Query(max_length=200)] = None,
) -> list[Issue]:
    """Issues, most recently seen first; without `status`, the open ones.

    Open means new, ongoing or regressed.
    """
    return await run_in_threadpool(
        lambda: service.open_issues(
            limit, offset, status=status, severity=severity, category=category, source=source
        )
    )


@router.post(
    "/api/ops/issues/{issue_id}/resolve",
    response_model=Issue,
    responses=error_responses(400, 401, 404),
)
async def resolve_issue(
    issue_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    request: ResolveRequest,
    service: Annotated[MonitorService, Depends(get_service)],
) -> Issue:
    """Mark an issue resolved; if it recurs, the next scan reopens it as a regression."""
    return await run_in_threadpool(service.resolve_issue, issue_id, request.resolution)
