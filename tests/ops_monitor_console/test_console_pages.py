"""The console over real HTTP without a browser: login and session cookie, CSRF, logout, pages
that read without JavaScript, the issue actions and their history; the issue routes of the API."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.requests import Request
from starlette.responses import Response
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from ops_monitor.api.session import Session, SessionKeys, start_session

from .served import ServedMonitor, served_monitor

TOKEN = "pages-s3cret"
NOW = datetime.now(UTC).replace(microsecond=0)


def failures(count: int, start: datetime) -> list[dict[str, Any]]:
    return [
        {
            "timestamp": (start + timedelta(seconds=i)).isoformat(),
            "source": "billing",
            "level": "error",
            "message": f"GET /api/invoices/{500 + i} -> 502 <b>bad gateway</b>",
            "attributes": {"trace": f"t{i}"},
        }
        for i in range(count)
    ]


def seeded(monitor: ServedMonitor) -> int:
    monitor.push(failures(4, NOW - timedelta(minutes=20)))
    monitor.client.scan("full")
    assert monitor.server.app.state.alerts.drain()
    [issue] = monitor.client.open_issues()
    return issue.id


def logged_in(monitor: ServedMonitor) -> httpx.Client:
    browser = httpx.Client(base_url=monitor.url)
    form = browser.get("/login").text
    login = re.search(r'name="login" value="([^"]+)"', form)
    assert login is not None
    answer = browser.post("/login", data={"login": login.group(1), "token": TOKEN, "next": "/"})
    assert answer.status_code == 303
    return browser


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found is not None
    return found.group(1)


def test_pages_need_a_login_and_the_token_once(tmp_path: Path) -> None:
    with served_monitor(f"sqlite:///{tmp_path / 'ops.db'}", token=TOKEN) as monitor:
        anonymous = httpx.Client(base_url=monitor.url)
        redirected = anonymous.get("/issues/1?x=1")
        form = anonymous.get("/login").text
        login = re.search(r'name="login" value="([^"]+)"', form)
        assert login is not None
        wrong = anonymous.post("/login", data={"login": login.group(1), "token": "nope"})
        forged = anonymous.post("/login", data={"login": "forged", "token": TOKEN})
        browser = logged_in(monitor)
        cookie = next(c for c in browser.cookies.jar if c.name == "ops_session")
        home = browser.get("/")
        api_with_cookie = browser.get("/api/ops/issues")
        docs = browser.get("/docs")
        logout = browser.post("/logout", data={"csrf": csrf_of(home.text)})
        after = browser.get("/")

    assert redirected.status_code == 303
    assert redirected.headers["location"] == "/login?next=%2Fissues%2F1%3Fx%3D1"
    assert wrong.status_code == 303
    assert "error=" in wrong.headers["location"]
    assert forged.status_code == 403
    assert cookie.has_nonstandard_attr("HttpOnly")
    assert not cookie.secure  # plain HTTP here; see the TLS test below
    assert home.status_code == 200
    assert "default-src 'self'" in home.headers["content-security-policy"]
    assert api_with_cookie.status_code == 401  # the API keeps bearer tokens
    assert docs.status_code == 200
    assert "/docs/assets/swagger-ui-bundle.js" in docs.text
    assert "cdn" not in docs.text.lower()
    assert logout.status_code == 303
    assert after.status_code == 303  # logged out


def test_the_cookie_is_secure_over_tls_and_signed_expiring() -> None:
    app = FastAPI()
    app.state.token = TOKEN

    @app.get("/set")
    def set_it(request: Request) -> Response:
        response = Response("ok")
        start_session(response, request, SessionKeys(TOKEN).new_session())
        return response

    header = TestClient(app, base_url="https://testserver").get("/set").headers["set-cookie"]
    keys = SessionKeys(TOKEN, lifetime=60)
    value = keys.cookie_value(keys.new_session())
    expired = keys.cookie_value(Session("sid", expires=int(NOW.timestamp()) - 1))

    assert "Secure" in header
    assert "SameSite=strict" in header
    assert keys.read(value) is not None
    assert keys.read(value[:-2] + "00") is None  # tampered
    assert keys.read(expired) is None
    assert SessionKeys("another token").read(value) is None  # a rotated token ends sessions


def test_forms_without_the_csrf_token_change_nothing(tmp_path: Path) -> None:
    with served_monitor(f"sqlite:///{tmp_path / 'ops.db'}", token=TOKEN) as monitor:
        issue_id = seeded(monitor)
        browser = logged_in(monitor)
        missing = browser.post(f"/issues/{issue_id}/resolve", data={"resolution": "x"})
        wrong = browser.post(f"/issues/{issue_id}/resolve", data={"resolution": "x", "csrf": "y"})
        other = logged_in(monitor)
        stolen = csrf_of(other.get(f"/issues/{issue_id}").text)  # another session's token
        foreign = browser.post(f"/issues/{issue_id}/resolve", data={"csrf": stolen})
        [issue] = monitor.client.open_issues()

    assert (missing.status_code, wrong.status_code, foreign.status_code) == (403, 403, 403)
    assert issue.status == "new"


def test_issue_pages_read_without_javascript_and_the_actions_keep_history(tmp_path: Path) -> None:
    with served_monitor(f"sqlite:///{tmp_path / 'ops.db'}", token=TOKEN) as monitor:
        issue_id = seeded(monitor)
        browser = logged_in(monitor)
        listing = browser.get("/", params={"source": "billing", "q": "invoices"}).text
        detail = browser.get(f"/issues/{issue_id}").text
        csrf = csrf_of(detail)
        ignored = browser.post(f"/issues/{issue_id}/ignore", data={"csrf": csrf, "more": "3"})
        hidden = browser.get("/").text
        shown_ignored = browser.get("/", params={"state": "ignored"}).text
        monitor.push(failures(3, NOW - timedelta(minutes=5)))  # three more: the ignore ends
        monitor.client.scan("incremental")
        assert monitor.server.app.state.alerts.drain()
        back = browser.get("/").text
        browser.post(
            f"/issues/{issue_id}/resolve", data={"csrf": csrf, "resolution": "rolled back"}
        )
        browser.post(f"/issues/{issue_id}/reopen", data={"csrf": csrf})
        final = browser.get(f"/issues/{issue_id}").text
        missing = browser.get("/issues/999")

    title = (
        "Errors in billing: GET /api/invoices/&lt;n&gt; -&gt; 502 &lt;b&gt;bad gateway&lt;/b&gt;"
    )
    assert title in listing  # escaped: a message is never markup
    assert "<b>bad gateway</b>" not in detail
    assert "&#34;trace&#34;: &#34;t3&#34;" in detail  # the latest record, in full
    assert "occurrence-chart" in detail
    assert ignored.status_code == 303
    assert f'data-issue="{issue_id}"' not in hidden
    assert f'data-issue="{issue_id}"' in shown_ignored
    assert f'data-issue="{issue_id}"' in back
    history = re.findall(r'<span class="state (\w+)">', final.split('id="history"')[1])
    assert history[:6] == ["new", "ignored", "unignored", "resolved", "reopened"][: len(history)]
    assert history == ["new", "ignored", "unignored", "resolved", "reopened"]
    assert missing.status_code == 404


def test_without_a_token_the_console_needs_no_login_but_forms_need_its_cookie(
    tmp_path: Path,
) -> None:
    with served_monitor(f"sqlite:///{tmp_path / 'ops.db'}") as monitor:
        issue_id = seeded(monitor)
        browser = httpx.Client(base_url=monitor.url)
        page = browser.get(f"/issues/{issue_id}")
        resolved = browser.post(
            f"/issues/{issue_id}/resolve", data={"csrf": csrf_of(page.text), "resolution": "ok"}
        )
        cookieless = httpx.post(
            monitor.url + f"/issues/{issue_id}/reopen", data={"csrf": csrf_of(page.text)}
        )
        pages = {
            path: browser.get(path).status_code for path in ("/scans", "/cron", "/logs", "/alerts")
        }

    assert page.status_code == 200
    assert resolved.status_code == 303
    assert cookieless.status_code == 403
    assert pages == {"/scans": 200, "/cron": 200, "/logs": 200, "/alerts": 200}


def test_issue_routes_of_the_api(db_url: str) -> None:
    with served_monitor(db_url, token=TOKEN) as monitor:
        issue_id = seeded(monitor)
        auth = {"Authorization": f"Bearer {TOKEN}"}
        api = httpx.Client(base_url=monitor.url, headers=auth)
        detail = api.get(f"/api/ops/issues/{issue_id}").json()
        until = (NOW + timedelta(days=1)).isoformat()
        ignore = api.post(f"/api/ops/issues/{issue_id}/ignore", json={"until": until})
        naive = api.post(f"/api/ops/issues/{issue_id}/ignore", json={"until": "2030-01-01T00:00"})
        unknown = api.post("/api/ops/issues/999/ignore", json={})
        reopen = api.post(f"/api/ops/issues/{issue_id}/reopen")
        anonymous = httpx.get(monitor.url + f"/api/ops/issues/{issue_id}")

    assert detail["rule"] == "error"
    assert [e["kind"] for e in detail["history"]] == ["new"]
    assert sum(b["count"] for b in detail["timeline"]) == 4
    assert [r["attributes"]["trace"] for r in detail["sample_records"]] == ["t3", "t2", "t1", "t0"]
    assert ignore.status_code == 200
    assert ignore.json()["until"].startswith((NOW + timedelta(days=1)).date().isoformat())
    assert naive.status_code == 400
    assert unknown.status_code == 404
    assert reopen.json()["status"] == "new"
    assert anonymous.status_code == 401


def test_live_endpoints_need_a_session(tmp_path: Path) -> None:
    with served_monitor(f"sqlite:///{tmp_path / 'ops.db'}", token=TOKEN) as monitor:
        tail = httpx.get(monitor.url + "/console/logs/tail")
        with (
            pytest.raises(InvalidStatus) as refused,
            connect(monitor.server.ws_url + "/console/live"),
        ):
            pass

    assert tail.status_code == 401
    assert refused.value.response.status_code == 403


def test_the_cron_page_lists_the_cron_monitors_with_their_state(tmp_path: Path) -> None:
    with served_monitor(f"sqlite:///{tmp_path / 'ops.db'}") as monitor:
        browser = httpx.Client(base_url=monitor.url)
        before = browser.get("/cron").text
        monitor.client.check_in("nightly-report", "error", monitor_config={"schedule": "0 2 * * *"})
        after = browser.get("/cron").text

    assert "No cron monitors yet" in before
    row = re.search(r"<tr><td>nightly-report.*?</tr>", after, re.S)
    assert row is not None
    assert '<span class="state error">error</span>' in row.group(0)
    assert "error 1" in row.group(0)
