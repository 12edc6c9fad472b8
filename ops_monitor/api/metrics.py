"""`GET /metrics`: the monitor's Prometheus metrics in the text exposition format."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from ops_monitor.api.errors import error_responses

router = APIRouter(tags=["metrics"])


@router.get(
    "/metrics",
    response_class=Response,
    responses={
        200: {"content": {"text/plain": {"schema": {"type": "string"}}}},
        **error_responses(401),
    },
)
def metrics(request: Request) -> Response:
    """Scans by scope and status, scan durations, logs ingested and processed, issues filed."""
    return Response(generate_latest(request.app.state.registry), media_type=CONTENT_TYPE_LATEST)
