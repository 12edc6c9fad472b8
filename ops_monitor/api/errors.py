"""Every error the API answers, mapped to a status code in this one place, as `{"error": ...}`.

Validation failures are 400 (not FastAPI's 422) and name the offending field; a failure inside the
service is a 500 whose body carries no stack trace (the trace goes to the server log).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ops_monitor.api.database_health import (
    DatabaseDown,
    DatabaseHealth,
    is_connection_failure,
    is_missing_schema,
    outage_reason,
)
from ops_monitor.models import IssueNotFoundError, ScanInProgressError, ScanResult
from ops_monitor.store.database import DatabaseUnavailable, driver_reason

log = logging.getLogger("ops_monitor.api")


class ErrorBody(BaseModel):
    error: str


class ScanBusyBody(ErrorBody):
    running_scan_id: int


class PayloadTooLarge(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"request body exceeds the {limit}-byte limit")


class ScanFailed(Exception):
    """The service recorded the scan as failed; answered with 500 and the scan's own error."""

    def __init__(self, result: ScanResult) -> None:
        super().__init__(f"scan {result.id} failed: {result.error or 'unknown error'}")
        self.scan_id = result.id


class BadRequest(Exception):
    """A body the route parsed itself (not through a pydantic model) is unusable."""


def describe_validation(errors: Sequence[Any]) -> str:
    """`scope: Input should be 'full' or 'incremental'`: the first problem, naming its field."""
    first = errors[0]
    kind, *path = [str(part) for part in first["loc"]]  # body, query, path or header first
    if first.get("type") == "json_invalid":  # its location is a character offset, not a field
        why = (first.get("ctx") or {}).get("error") or first["msg"]
        where = f" at character {path[0]}" if path else ""
        return f"body: invalid JSON ({why}{where})"
    field = ".".join(path)
    name = (field or "body") if kind == "body" else f"{kind} parameter {field}"
    extra = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{name}: {first['msg']}{extra}"


def _error(
    status: int, message: str, *, headers: Mapping[str, str] | None = None, **extra: Any
) -> JSONResponse:
    return JSONResponse({"error": message, **extra}, status_code=status, headers=headers)


def error_response(status: int, message: str, headers: Mapping[str, str]) -> JSONResponse:
    """The `{"error"}` answer, for middleware that answers before any route runs."""
    return _error(status, message, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def validation(_: Request, error: RequestValidationError) -> JSONResponse:
        return _error(400, describe_validation(error.errors()))

    @app.exception_handler(BadRequest)
    async def bad_request(_: Request, error: BadRequest) -> JSONResponse:
        return _error(400, str(error))

    @app.exception_handler(IssueNotFoundError)
    async def not_found(_: Request, error: IssueNotFoundError) -> JSONResponse:
        return _error(404, str(error))

    @app.exception_handler(ScanInProgressError)
    async def busy(_: Request, error: ScanInProgressError) -> JSONResponse:
        return _error(409, str(error), running_scan_id=error.running_scan_id)

    @app.exception_handler(PayloadTooLarge)
    async def too_large(_: Request, error: PayloadTooLarge) -> JSONResponse:
        return _error(413, str(error))

    @app.exception_handler(ScanFailed)
    async def scan_failed(_: Request, error: ScanFailed) -> JSONResponse:
        return _error(500, str(error), scan_id=error.scan_id)

    @app.exception_handler(DatabaseDown)
    async def database_down(_: Request, error: DatabaseDown) -> JSONResponse:
        return _error(503, str(error), headers={"Retry-After": str(error.retry_after)})

    @app.exception_handler(DatabaseUnavailable)
    @app.exception_handler(SQLAlchemyError)
    async def database_error(request: Request, error: Exception) -> JSONResponse:
        health: DatabaseHealth = request.app.state.database_health
        if is_missing_schema(error):
            return await _repair_schema(request, error)
        reason = outage_reason(error)
        if reason is None:
            raise error  # a bug of ours: InternalErrors logs it and answers 500
        if is_connection_failure(error):
            health.mark_down(reason)  # the next requests are answered at once
        else:  # one slow statement, a lock, a full pool: ask whether the database answers at all
            request.app.state.database_probe.check_soon()
        return _error(
            503, f"database unavailable: {reason}", headers={"Retry-After": str(health.retry_after)}
        )

    @app.exception_handler(HTTPException)
    async def http_error(_: Request, error: HTTPException) -> JSONResponse:
        return _error(error.status_code, str(error.detail), headers=error.headers)

    app.add_middleware(InternalErrors)


async def _repair_schema(request: Request, error: Exception) -> JSONResponse:
    """Our tables are gone (the database or schema was recreated): migrate again, once at a
    time, and ask the client to retry; if that fails, say why, naming the database's reason."""
    missing = driver_reason(error)
    repair = request.app.state.repair_schema()
    if repair is None:
        return _error(503, f"database schema missing ({missing})", headers={"Retry-After": "5"})
    async with request.app.state.repair_lock:
        try:
            await run_in_threadpool(repair)
        except SQLAlchemyError as failure:
            log.error("the database schema is missing and could not be recreated", exc_info=failure)
            return _error(
                503,
                f"database schema missing ({missing}) and could not be recreated: "
                f"{driver_reason(failure)}",
                headers={"Retry-After": "5"},
            )
    log.warning("the database schema was missing (%s); migrated again", missing)
    return _error(
        503,
        f"database schema was missing ({missing}); it has been recreated: retry",
        headers={"Retry-After": "1"},
    )


class InternalErrors:
    """Anything unexpected becomes a 500 `{"error"}` naming only the exception's type; the trace
    is logged here, once (an `Exception` handler would let Starlette re-raise and log it again)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking)
        except Exception as error:
            log.error("%s %s failed", scope["method"], scope["path"], exc_info=error)
            if started:  # too late for a clean answer; the server closes the connection
                raise
            response = _error(
                500, f"internal error ({type(error).__name__}); see the monitor's log"
            )
            await response(scope, receive, send)


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the error statuses a route can answer, so clients and fuzzers know."""
    described = {
        400: "Invalid request; the message names the field",
        401: "Missing or wrong bearer token",
        404: "No such resource",
        409: "A scan is already running",
        413: "Request body too large",
        500: "The service failed",
        503: "The database is unavailable; retry after `Retry-After` seconds",
    }
    return {
        status: {
            "model": ScanBusyBody if status == 409 else ErrorBody,
            "description": described[status],
        }
        for status in statuses
    }
