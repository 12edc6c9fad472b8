"""The console's pages and forms. Thin: each reads or changes through the same services the API
uses (`OpsMonitorService`, `OnCallService`) and renders one template.

Pages need a session cookie (from `GET /login`) when the monitor has a token, and make one on
the spot when it has none; every POST checks the form's CSRF token against the session.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qs, quote, urlencode

from fastapi import APIRouter, Depends, FastAPI, Query, Request, WebSocket
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from ops_monitor.api.broadcast_hub import Broadcaster
from ops_monitor.api.cron import get_cron_view, get_history
from ops_monitor.api.deps import MonitorService, get_broadcaster, get_service
from ops_monitor.api.oncall_deps import get_oncall
from ops_monitor.api.session import (
    LOGIN_COOKIE,
    Session,
    current_session,
    end_session,
    keys_of,
    set_cookie,
    start_session,
)
from ops_monitor.console.charts import chart
from ops_monitor.models import IssueNotFoundError, IssueSeverity
from ops_monitor.monitors.service import CronMonitors
from ops_monitor.oncall.service import OnCallService
from ops_monitor.views.issue_history import IssueSort, IssueState
from ops_monitor.views.log_query import LogQuery, QueryError

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
router = APIRouter(include_in_schema=False)

STATES: tuple[IssueState, ...] = (
    "open",
    "new",
    "ongoing",
    "regressed",
    "resolved",
    "ignored",
    "all",
)
SORTS: tuple[IssueSort, ...] = ("last_seen", "count", "first_seen", "severity")
FORM_BYTES = 16 * 1024
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


class LoginRedirect(Exception):
    def __init__(self, target: str) -> None:
        super().__init__(target)
        self.target = target


def page_session(request: Request) -> Session:
    session = current_session(request)
    if session is not None:
        return session
    keys = keys_of(request)
    if not keys.login_required:
        return keys.new_session(fresh=True)
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    raise LoginRedirect(target)


PageSession = Annotated[Session, Depends(page_session)]
OnCall = Annotated[OnCallService, Depends(get_oncall)]


async def form_of(request: Request) -> dict[str, str]:
    """An urlencoded form, bounded in size; the first value of each field."""
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > FORM_BYTES:
            raise HTTPException(413, "form too large")
    fields = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    return {name: values[0] for name, values in fields.items()}


async def checked_form(request: Request) -> tuple[Session, dict[str, str]]:
    """The form of a POST whose CSRF token matches the session cookie, or 403."""
    session = current_session(request)
    form = await form_of(request)
    if session is None or not keys_of(request).csrf_ok(session, form.get("csrf")):
        raise HTTPException(403, "the form is stale or was not sent by this console: reload it")
    return session, form


def render(request: Request, name: str, session: Session, **context: Any) -> HTMLResponse:
    keys = keys_of(request)
    response = templates.TemplateResponse(
        request,
        name,
        {
            "csrf": keys.csrf(session),
            "login_required": keys.login_required,
            "page": name.removesuffix(".html"),
            **context,
        },
    )
    if session.fresh:
        start_session(response, request, session)
    response.headers["content-security-policy"] = CSP
    response.headers["x-content-type-options"] = "nosniff"
    response.headers["referrer-policy"] = "same-origin"
    return response


def _safe_next(target: str | None) -> str:
    if not target or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


# ---------------------------------------------------------------- login
@router.get("/login")
def login_page(request: Request, next: str | None = None, error: str | None = None) -> Response:
    keys = keys_of(request)
    nonce = keys.new_session().sid
    response = templates.TemplateResponse(
        request,
        "login.html",
        {
            "next": _safe_next(next),
            "error": error,
            "login_token": keys.login_nonce_token(nonce),
            "login_required": keys.login_required,
            "page": "login",
        },
    )
    set_cookie(response, request, LOGIN_COOKIE, nonce, 600)
    response.headers["content-security-policy"] = CSP
    return response


@router.post("/login")
async def login(request: Request) -> Response:
    keys = keys_of(request)
    form = await form_of(request)
    nonce = request.cookies.get(LOGIN_COOKIE, "")
    target = _safe_next(form.get("next"))
    if not nonce or form.get("login") != keys.login_nonce_token(nonce):
        raise HTTPException(403, "the login form is stale: reload it")
    if not keys.token_ok(form.get("token", "")):
        query = urlencode({"next": target, "error": "That token is not the monitor's token."})
        return RedirectResponse(f"/login?{query}", status_code=303)
    response = RedirectResponse(target, status_code=303)
    start_session(response, request, keys.new_session())
    response.delete_cookie(LOGIN_COOKIE, path="/")
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    await checked_form(request)
    response = RedirectResponse("/login", status_code=303)
    end_session(response, request)
    return response


# ---------------------------------------------------------------- issues
@router.get("/")
async def issues_page(
    request: Request,
    session: PageSession,
    oncall: OnCall,
    state: str = "open",
    level: str = "",
    source: str = "",
    q: Annotated[str, Query(max_length=200)] = "",
    sort: str = "last_seen",
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
) -> Response:
    chosen_state: IssueState = state if state in STATES else "open"
    chosen_sort: IssueSort = sort if sort in SORTS else "last_seen"
    severity = IssueSeverity(level) if level in {s.value for s in IssueSeverity} else None
    limit = 50
    rows = await run_in_threadpool(
        lambda: oncall.list_issues(
            state=chosen_state,
            severity=severity,
            source=source or None,
            text=q or None,
            sort=chosen_sort,
            limit=limit + 1,
            offset=offset,
        )
    )
    sources = await run_in_threadpool(oncall.sources)
    filters = {"state": chosen_state, "level": level, "source": source, "q": q, "sort": chosen_sort}
    more = len(rows) > limit
    return render(
        request,
        "issues.html",
        session,
        rows=rows[:limit],
        filters=filters,
        states=STATES,
        sorts=SORTS,
        levels=[s.value for s in IssueSeverity],
        sources=sources,
        next_page=urlencode(filters | {"offset": offset + limit}) if more else None,
        previous_page=urlencode(filters | {"offset": max(offset - limit, 0)}) if offset else None,
    )


@router.get("/issues/{issue_id}")
async def issue_page(
    request: Request, issue_id: int, session: PageSession, oncall: OnCall
) -> Response:
    try:
        detail = await run_in_threadpool(oncall.issue_detail, issue_id)
    except IssueNotFoundError as error:
        raise HTTPException(404, str(error)) from error
    deliveries = await run_in_threadpool(oncall.deliveries, 20, f"issue:{issue_id}")
    return render(
        request,
        "issue.html",
        session,
        detail=detail,
        issue=detail.issue,
        chart=chart(detail.timeline),
        deliveries=deliveries,
        as_json=lambda value: json.dumps(value, indent=2, sort_keys=True, default=str),
    )


def _back_to(issue_id: int, note: str) -> RedirectResponse:
    return RedirectResponse(f"/issues/{issue_id}?done={quote(note)}", status_code=303)


@router.post("/issues/{issue_id}/resolve")
async def resolve(request: Request, issue_id: int, oncall: OnCall) -> Response:
    _, form = await checked_form(request)
    resolution = form.get("resolution", "").strip() or "resolved from the console"
    await run_in_threadpool(oncall.resolve, issue_id, resolution[:2000])
    return _back_to(issue_id, "resolved")


@router.post("/issues/{issue_id}/ignore")
async def ignore(request: Request, issue_id: int, oncall: OnCall) -> Response:
    _, form = await checked_form(request)
    more = form.get("more", "").strip()
    until = form.get("until", "").strip()
    try:
        count = int(more) if more else None
        moment = datetime.fromisoformat(until).replace(tzinfo=UTC) if until else None
    except ValueError as error:
        raise HTTPException(400, "ignore: give a whole number of occurrences or a date") from error
    if count is not None and not 1 <= count <= 10**12:
        raise HTTPException(400, "ignore: the number of occurrences must be positive")
    await run_in_threadpool(lambda: oncall.ignore(issue_id, until=moment, more=count))
    return _back_to(issue_id, "ignored")


@router.post("/issues/{issue_id}/reopen")
async def reopen(request: Request, issue_id: int, oncall: OnCall) -> Response:
    await checked_form(request)
    await run_in_threadpool(oncall.reopen, issue_id)
    return _back_to(issue_id, "reopened")


# ---------------------------------------------------------------- scans, cron, alerts
@router.get("/scans")
async def scans_page(
    request: Request,
    session: PageSession,
    service: Annotated[MonitorService, Depends(get_service)],
) -> Response:
    scans = await run_in_threadpool(service.recent_scans, 50)
    return render(request, "scans.html", session, scans=scans)


@router.get("/cron")
async def cron_page(request: Request, session: PageSession) -> Response:
    view, history = get_cron_view(request), get_history(request)
    status = await run_in_threadpool(view.status, history)
    cron_monitors = getattr(request.app.state, "monitors", None)
    monitors = (
        await run_in_threadpool(cron_monitors.monitors)
        if isinstance(cron_monitors, CronMonitors)
        else None
    )
    return render(request, "cron.html", session, status=status, monitors=monitors)


@router.get("/alerts")
async def alerts_page(request: Request, session: PageSession, oncall: OnCall) -> Response:
    deliveries = await run_in_threadpool(oncall.deliveries, 100)
    return render(request, "alerts.html", session, deliveries=deliveries)


# ---------------------------------------------------------------- logs
@router.get("/logs")
async def logs_page(
    request: Request,
    session: PageSession,
    oncall: OnCall,
    q: Annotated[str, Query(max_length=200)] = "",
    source: Annotated[str, Query(max_length=200)] = "",
    level: Annotated[str, Query(max_length=200)] = "",
    since: Annotated[str, Query(max_length=64)] = "",
    until: Annotated[str, Query(max_length=64)] = "",
    cursor: Annotated[str, Query(max_length=100)] = "",
) -> Response:
    filters = {"q": q, "source": source, "level": level, "since": since, "until": until}
    error = None
    page = None
    try:
        query = LogQuery.parse(
            q=q or None,
            source=source or None,
            level=level or None,
            since=since or None,
            until=until or None,
            cursor=cursor or None,
        )
        page = await run_in_threadpool(oncall.search_logs, query)
    except QueryError as problem:
        error = str(problem)
    last_id = await run_in_threadpool(oncall.last_log_id)
    older = None
    if page is not None and page.next_cursor:
        older = urlencode({k: v for k, v in filters.items() if v} | {"cursor": page.next_cursor})
    return render(
        request,
        "logs.html",
        session,
        filters=filters,
        page=page,
        error=error,
        older=older,
        last_id=last_id,
        as_json=lambda value: json.dumps(value, sort_keys=True, default=str),
    )


@router.get("/console/logs/tail")
async def logs_tail(
    request: Request,
    oncall: OnCall,
    after: Annotated[int, Query(ge=0, le=2**63 - 1)] = 0,
    q: Annotated[str, Query(max_length=200)] = "",
    source: Annotated[str, Query(max_length=200)] = "",
    level: Annotated[str, Query(max_length=200)] = "",
) -> Response:
    """New records after id `after` for the live tail (JSON; the page's script polls it)."""
    if current_session(request) is None:
        return JSONResponse({"error": "log in first"}, status_code=401)
    try:
        query = LogQuery.parse(q=q or None, source=source or None, level=level or None, limit=200)
    except QueryError as error:
        return JSONResponse({"error": str(error)}, status_code=400)
    entries = await run_in_threadpool(oncall.tail_logs, after, query)
    return JSONResponse([json.loads(entry.model_dump_json()) for entry in entries])


@router.websocket("/console/live")
async def live(
    websocket: WebSocket, broadcaster: Annotated[Broadcaster, Depends(get_broadcaster)]
) -> None:
    """Completed scans, as `/api/ops/broadcast` sends them, for a browser holding a session."""
    if current_session(websocket) is None:
        await websocket.close(code=1008, reason="log in first")
        return
    await broadcaster.serve(websocket)


def install(app: FastAPI) -> None:
    """Add the console to an app made by `create_app`."""
    app.include_router(router)
    app.mount("/console/static", StaticFiles(directory=str(HERE / "static")), name="console-static")
    # The pages check the session cookie themselves (a browser cannot send the bearer token).
    app.state.self_guarded.add_routes(router.routes)
    app.state.self_guarded.add_prefix("/console/static")

    @app.exception_handler(LoginRedirect)
    async def to_login(_: Request, error: LoginRedirect) -> Response:
        return RedirectResponse(f"/login?{urlencode({'next': error.target})}", status_code=303)
