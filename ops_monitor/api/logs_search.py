"""`GET /api/ops/logs`: search stored records, newest first, a page at a time.

The push route (`POST /api/ops/logs`) lives in `logs.py`; this is its reading side.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from starlette.concurrency import run_in_threadpool

from ops_monitor.api.errors import BadRequest, error_responses
from ops_monitor.api.oncall_deps import get_oncall
from ops_monitor.oncall.service import OnCallService
from ops_monitor.views.log_page import LogPage
from ops_monitor.views.log_query import (
    CURSOR_PATTERN,
    DEFAULT_LIMIT,
    MAX_LIMIT,
    MAX_TEXT,
    SPAN_PATTERN,
    LogQuery,
    QueryError,
)

router = APIRouter(tags=["logs"])

Text = Annotated[str | None, Query(max_length=MAX_TEXT)]
When = Annotated[
    str | None,
    Query(
        max_length=64,
        description="ISO 8601 time, or a span before now: 30s, 15m, 2h, 7d",
        json_schema_extra={
            "anyOf": [
                {"type": "string", "format": "date-time"},
                {"type": "string", "pattern": SPAN_PATTERN},
            ]
        },
    ),
]


@router.get("/api/ops/logs", response_model=LogPage, responses=error_responses(400, 401, 503))
async def search_logs(
    oncall: Annotated[OnCallService, Depends(get_oncall)],
    q: Annotated[str | None, Query(max_length=MAX_TEXT, description="text in the message")] = None,
    source: Annotated[str | None, Query(max_length=MAX_TEXT, description="comma-separated")] = None,
    level: Annotated[str | None, Query(max_length=MAX_TEXT, description="comma-separated")] = None,
    since: When = None,
    until: When = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=40, pattern=CURSOR_PATTERN)] = None,
) -> LogPage:
    """Stored records matching every filter given, newest first; follow `next_cursor` for older
    ones. A text search examines a bounded number of records per page (see `searched_to`)."""
    try:
        query = LogQuery.parse(
            q=q, source=source, level=level, since=since, until=until, limit=limit, cursor=cursor
        )
    except QueryError as error:
        raise BadRequest(str(error)) from error
    return await run_in_threadpool(oncall.search_logs, query)
