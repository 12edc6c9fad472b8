"""`POST /api/ops/logs`: producers push batches of records (a JSON array, or NDJSON).

The size limit is enforced while the body streams in, so an oversized push is refused (413)
without the server ever holding more than the limit in memory.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from ops_monitor.api.deps import MonitorService, get_service
from ops_monitor.api.errors import BadRequest, PayloadTooLarge, error_responses
from ops_monitor.api.log_batch import NotAnArray, parse_body

router = APIRouter(tags=["logs"])

PUSH_ORIGIN = "push"
PUSH_PATH = "/api/ops/logs"


class PushResult(BaseModel):
    accepted: int
    malformed: int
    malformed_samples: list[str]


# Any array is accepted: an item that is not a usable record is counted as malformed, not
# refused, so the schema describes the expected shape in words rather than constraining it.
_RECORD_SCHEMA: dict[str, Any] = {
    "description": "An object with `timestamp` (ISO 8601, or Unix epoch seconds or milliseconds) "
    "and `message` (string), and optionally `source`, `level` (strings) and `attributes` "
    "(object). Anything else is counted as malformed and sampled in the response, as is a "
    "timestamp more than a day ahead of the monitor's clock or before 1970. Text is stored with "
    "NUL and unpaired surrogates replaced by U+FFFD, `source` cut to 200 characters and `level` "
    "to 20 (ending in U+2026)."
}
_OPENAPI_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": {"type": "array", "items": _RECORD_SCHEMA}},
            "application/x-ndjson": {
                "schema": {"type": "string", "description": "one JSON record per line"}
            },
        },
    }
}


def push_limit(request: Request) -> int:
    return int(request.app.state.max_push_bytes)


async def _read_limited(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(limit)
        chunks.append(chunk)
    return b"".join(chunks)


@router.post(
    PUSH_PATH,
    response_model=PushResult,
    openapi_extra=_OPENAPI_BODY,
    responses=error_responses(400, 401, 413),
)
async def push_logs(
    request: Request,
    service: Annotated[MonitorService, Depends(get_service)],
    limit: Annotated[int, Depends(push_limit)],
) -> PushResult:
    """Store pushed records for the next scan; malformed ones are counted, not fatal."""
    body = await _read_limited(request, limit)
    content_type = request.headers.get("content-type", "")
    # Parsing a large batch is CPU work: keep it, with the insert, off the event loop.
    return await run_in_threadpool(_store, service, body, content_type)


def _store(service: MonitorService, body: bytes, content_type: str) -> PushResult:
    try:
        batch = parse_body(body, content_type)
    except NotAnArray as error:
        raise BadRequest(str(error)) from error
    accepted = 0
    if batch.records or batch.malformed.count:  # malformed counts reach the next scan's record
        # The service may refuse records too (out-of-bounds timestamps): it counts them into
        # `batch.malformed` at their line, so the answer below includes them.
        accepted = service.ingest(batch.stream(), origin=PUSH_ORIGIN, malformed=batch.malformed)
    return PushResult(
        accepted=accepted,
        malformed=batch.malformed.count,
        malformed_samples=batch.malformed.samples,
    )
