"""`GET /metrics`: the monitor's Prometheus metrics in the text exposition format.

The process's own counters first, then what the store holds, read from the database (the same
from every replica). With the database down the store's series are left out, with a warning in
the server log: the process's counters still answer.
"""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy.exc import SQLAlchemyError

from ops_monitor.api.deps import MonitorService, get_service
from ops_monitor.api.errors import error_responses
from ops_monitor.metrics import store_exposition

router = APIRouter(tags=["metrics"])
log = logging.getLogger(__name__)


@router.get(
    "/metrics",
    response_class=Response,
    responses={
        200: {"content": {"text/plain": {"schema": {"type": "string"}}}},
        **error_responses(401),
    },
)
def metrics(request: Request, service: Annotated[MonitorService, Depends(get_service)]) -> Response:
    """Scans by scope and status, scan durations, logs ingested and processed, issues filed;
    records stored, open issues by severity and the last scans, from the database."""
    body = generate_latest(request.app.state.registry)
    try:
        body += store_exposition(service.store_totals())
    except SQLAlchemyError as error:
        log.warning(
            "/metrics: the store's figures are left out: %s", " ".join(str(error).split())[:300]
        )
    return Response(body, media_type=CONTENT_TYPE_LATEST)
