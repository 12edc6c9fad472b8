"""`POST /api/ops/logs`: producers push batches of records (a JSON array, or NDJSON).

The size limit is enforced while the body streams in, so an oversized push is refused (413)
without the server ever holding more than the limit in memory. A push is stored whole or not at
all (one transaction), and a push sent with an `Idempotency-Key` header is stored once however
often it is retried: a retry gets the first answer, marked `replayed`.
"""

from __future__ import annotations

import hashlib
import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from ops_monitor.api.deps import MonitorService, get_service
from ops_monitor.api.errors import BadRequest, ErrorBody, PayloadTooLarge, error_responses
from ops_monitor.api.log_batch import NotAnArray, parse_body
from ops_monitor.ingest.summary import IdempotencyKey, IdempotencyKeyReused

router = APIRouter(tags=["logs"])

PUSH_ORIGIN = "push"
PUSH_PATH = "/api/ops/logs"
KEY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
# Printable ASCII without spaces, as UUIDs, ULIDs and hashes are: a key is compared as given.
_KEY = re.compile(r"[\x21-\x7e]{1,200}")


class PushResult(BaseModel):
    accepted: int
    malformed: int
    malformed_samples: list[str]
    expired: int = 0  # older than the retention window: counted, not stored
    replayed: bool = False  # the answer to an earlier push with the same Idempotency-Key


# Any array is accepted: an item that is not a usable record is counted as malformed, not
# refused, so the schema describes the expected shape in words rather than constraining it.
_RECORD_SCHEMA: dict[str, Any] = {
    "description": "An object with `timestamp` (ISO 8601, or Unix epoch seconds or milliseconds) "
    "and `message` (string), and optionally `source`, `level` (strings) and `attributes` "
    "(object). Anything else is counted as malformed and sampled in the response, as is a "
    "timestamp more than a day ahead of the monitor's clock or before 1970 (or with no UTC "
    "equivalent). A record older than the retention window is counted as `expired` and not "
    "stored. Text is stored with "
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
    },
    "parameters": [
        {
            "name": KEY_HEADER,
            "in": "header",
            "required": False,
            "description": "Makes the push safe to retry: a push with a key seen before is not "
            "stored again and gets the first answer, with `replayed: true` and the header "
            f"`{REPLAYED_HEADER}: true`. 1-200 printable ASCII characters; a key reused for "
            "a different body is a 409.",
            "schema": {
                "type": "string",
                "minLength": 1,
                "maxLength": 200,
                "pattern": "^[\\x21-\\x7e]+$",
            },
        }
    ],
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
    responses={
        **error_responses(400, 401, 413),
        409: {"model": ErrorBody, "description": "The Idempotency-Key was used for another body"},
    },
)
async def push_logs(
    request: Request,
    response: Response,
    service: Annotated[MonitorService, Depends(get_service)],
    limit: Annotated[int, Depends(push_limit)],
) -> PushResult:
    """Store pushed records for the next scan; malformed ones are counted, not fatal."""
    key = request.headers.get(KEY_HEADER)
    if key is not None and _KEY.fullmatch(key) is None:
        raise BadRequest(f"{KEY_HEADER}: must be 1 to 200 printable ASCII characters, no spaces")
    body = await _read_limited(request, limit)
    content_type = request.headers.get("content-type", "")
    # Parsing a large batch is CPU work: keep it, with the insert, off the event loop.
    result = await run_in_threadpool(_store, service, body, content_type, key)
    if result.replayed:
        response.headers[REPLAYED_HEADER] = "true"
    return result


def _store(service: MonitorService, body: bytes, content_type: str, key: str | None) -> PushResult:
    try:
        batch = parse_body(body, content_type)
    except NotAnArray as error:
        raise BadRequest(str(error)) from error
    if not (batch.records or batch.malformed.count or key):
        return PushResult(accepted=0, malformed=0, malformed_samples=[])
    idempotency = None if key is None else IdempotencyKey(key, hashlib.sha256(body).hexdigest())
    try:
        # The service may refuse records too (out-of-bounds timestamps): it counts them into
        # `batch.malformed` at their line, so the answer includes them. One transaction: the
        # push is stored whole or not at all.
        summary = service.store_logs(
            batch.stream(),
            origin=PUSH_ORIGIN,
            malformed=batch.malformed,
            batch_size=None,
            idempotency=idempotency,
        )
    except IdempotencyKeyReused as error:
        raise HTTPException(409, str(error)) from error
    return PushResult(
        accepted=summary.stored,
        malformed=summary.malformed,
        malformed_samples=summary.malformed_samples,
        expired=summary.expired,
        replayed=summary.replayed,
    )
