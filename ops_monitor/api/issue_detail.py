"""`GET /api/ops/issues/{id}`: one issue in full (history, occurrences over time, latest records);
`POST .../ignore` hides it until a date or N more occurrences; `POST .../reopen` undoes a resolve
or an ignore."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from ops_monitor.api.errors import BadRequest, error_responses
from ops_monitor.api.issues import MAX_ID
from ops_monitor.api.oncall_deps import get_oncall
from ops_monitor.models import Issue
from ops_monitor.oncall.service import OnCallService
from ops_monitor.views.issue_history import IgnoreRule, IssueDetail

router = APIRouter(tags=["issues"])
IssueId = Annotated[int, Path(ge=1, le=MAX_ID)]


class IgnoreRequest(BaseModel):
    """Both empty: ignored for good (until reopened)."""

    model_config = ConfigDict(extra="forbid")

    until: datetime | None = Field(default=None, description="hidden until this time")
    more: int | None = Field(
        default=None, ge=1, le=10**12, description="hidden until this many more occurrences"
    )


@router.get(
    "/api/ops/issues/{issue_id}",
    response_model=IssueDetail,
    responses=error_responses(400, 401, 404, 503),
)
async def issue_detail(
    issue_id: IssueId, oncall: Annotated[OnCallService, Depends(get_oncall)]
) -> IssueDetail:
    """The issue with its state history, occurrences over time and latest records."""
    return await run_in_threadpool(oncall.issue_detail, issue_id)


@router.post(
    "/api/ops/issues/{issue_id}/ignore",
    response_model=IgnoreRule,
    responses=error_responses(400, 401, 404, 503),
)
async def ignore_issue(
    issue_id: IssueId,
    request: IgnoreRequest,
    oncall: Annotated[OnCallService, Depends(get_oncall)],
) -> IgnoreRule:
    """Hide the issue from the open list (and its alerts) until a date or N more occurrences."""
    if request.until is not None and request.until.tzinfo is None:
        raise BadRequest("until: give a time zone (e.g. 2026-01-31T09:00:00Z)")
    return await run_in_threadpool(
        lambda: oncall.ignore(issue_id, until=request.until, more=request.more)
    )


@router.post(
    "/api/ops/issues/{issue_id}/reopen",
    response_model=Issue,
    responses=error_responses(400, 401, 404, 503),
)
async def reopen_issue(
    issue_id: IssueId, oncall: Annotated[OnCallService, Depends(get_oncall)]
) -> Issue:
    """Undo a resolve or an ignore."""
    return await run_in_threadpool(oncall.reopen, issue_id)
