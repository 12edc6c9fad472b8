"""The console in a real browser (headless Chromium from the Debian packages, driven by Selenium,
which is pointed at /usr/bin/chromedriver and never downloads one): log in, find the issue a real
ingest and scan filed, open it, resolve it, watch a scan arrive live; every page renders with no
request leaving 127.0.0.1 and no console error, and is kept as a screenshot for CI."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from ops_monitor.alerts.rules import parse_alerts

from .receiver import receiver
from .served import ServedMonitor, served_monitor

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "build" / "console-screenshots"
TOKEN = "console-s3cret"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-dev-shm-usage",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1280,1000",
    # Any name but the loopback address fails to resolve: nothing can leave, even by accident.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]
LOCAL_SCHEMES = {"data", "about", "chrome", "blob"}


def _ensure_chromium() -> str | None:
    """None when the browser and its driver are ready, else the reason they cannot be."""
    if CHROMIUM.exists() and CHROMEDRIVER.exists():
        return None
    apt = shutil.which("apt-get")
    if apt is None:
        return "chromium is absent and apt-get is not available to install it"
    if hasattr(os, "geteuid") and os.geteuid() != 0:
        return "chromium is absent and installing it with apt-get needs root"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for argv in ([apt, "update"], [apt, "install", "-y", "chromium", "chromium-driver"]):
        done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["no output"])[-1]
            return f"apt-get could not install chromium: {last}"
    return None


@pytest.fixture
def browser() -> Iterator[Any]:
    reason = _ensure_chromium()
    if reason is not None:
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in FLAGS:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def requested_urls(browser: Any) -> list[str]:
    urls = []
    for entry in browser.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def shoot(browser: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    assert browser.save_screenshot(str(SCREENSHOTS / f"{name}.png"))


def settled(browser: Any, wait: Any) -> None:
    """Rows that arrived live have finished their highlight (a screenshot mid-animation can
    show stale paint)."""
    wait.until(lambda _: not browser.find_elements("css selector", "tr.fresh"))


def seed(monitor: ServedMonitor) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    records = [
        {
            "timestamp": (now - timedelta(minutes=200) + timedelta(seconds=180 * i)).isoformat(),
            "source": "orchestrator",
            "level": "error",
            "message": f"POST /api/runs/{1000 + i}/steps -> upstream timeout after {900 + i} ms",
            "attributes": {"request_id": f"req-{i:04d}", "region": "eu-west"},
        }
        for i in range(60)
    ] + [
        {
            "timestamp": (now - timedelta(minutes=30) + timedelta(seconds=i)).isoformat(),
            "source": "checkout",
            "level": "info",
            "message": f"GET /api/cart/{i} 200 in {20 + i} ms",
        }
        for i in range(40)
    ]
    monitor.push(records)
    monitor.client.scan("full")
    assert monitor.server.app.state.alerts.drain()


@pytest.mark.slow
def test_on_call_console_in_a_real_browser(browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(browser, 20)
    with (
        receiver() as hook,
        served_monitor(
            f"sqlite:///{tmp_path / 'ops.db'}",
            token=TOKEN,
            alerts=parse_alerts([{"url": hook.url, "kind": "slack"}], "alerts"),
        ) as monitor,
    ):
        seed(monitor)
        base = monitor.url

        browser.get(base + "/")  # not logged in: the login page, remembering where we went
        assert urlsplit(browser.current_url).path == "/login"
        shoot(browser, "login")
        browser.find_element(By.ID, "token").send_keys(TOKEN)
        browser.find_element(By.ID, "login-button").click()
        wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "table.issues")))
        cookie = browser.get_cookie("ops_session")
        assert cookie["httpOnly"] is True
        assert cookie["sameSite"] == "Strict"
        title = "Errors in orchestrator: POST /api/runs/<n>/steps -> upstream timeout after <n> ms"
        link = browser.find_element(By.LINK_TEXT, title)
        shoot(browser, "issues")

        link.click()
        wait.until(ec.presence_of_element_located((By.ID, "occurrence-chart")))
        assert browser.find_element(By.ID, "issue-title").text == title
        bars = browser.find_elements(By.CSS_SELECTOR, "#occurrence-chart rect")
        assert sum(float(bar.get_attribute("height")) > 0 for bar in bars) >= 2
        assert "new" in browser.find_element(By.ID, "history").text
        assert "req-0059" in browser.find_element(By.CSS_SELECTOR, "pre.attributes").text
        shoot(browser, "issue")

        browser.find_element(By.NAME, "resolution").send_keys("raised the upstream timeout")
        browser.find_element(By.ID, "resolve-button").click()
        wait.until(ec.text_to_be_present_in_element((By.ID, "issue-state"), "resolved"))
        assert "raised the upstream timeout" in browser.find_element(By.ID, "history").text
        [issue] = monitor.client.open_issues(status="resolved")
        assert issue.resolution == "raised the upstream timeout"

        browser.get(base + "/scans")
        wait.until(ec.visibility_of_element_located((By.ID, "live-status")))  # socket open
        scan = monitor.client.scan("incremental")
        wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, f'tr[data-scan="{scan.id}"]')))
        settled(browser, wait)
        shoot(browser, "scans")

        for page, ready in (
            ("/cron", "h1"),
            ("/logs?source=orchestrator&level=error", "#log-rows tr"),
            ("/alerts", "td a"),
            ("/docs", ".swagger-ui .info .title"),
        ):
            browser.get(base + page)
            wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, ready)))
            shoot(browser, page.strip("/").split("?")[0])

        browser.get(base + "/logs?source=checkout")
        browser.find_element(By.ID, "tail-toggle").click()
        wait.until(ec.visibility_of_element_located((By.ID, "live-status")))
        monitor.push(
            [
                {
                    "timestamp": datetime.now(UTC).isoformat(),
                    "source": "checkout",
                    "level": "warning",
                    "message": "payment provider slow: 2400 ms",
                }
            ]
        )
        wait.until(ec.text_to_be_present_in_element((By.ID, "log-rows"), "payment provider slow"))
        settled(browser, wait)
        shoot(browser, "logs-live-tail")

        urls = requested_urls(browser)
        errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]

    outside = [
        url
        for url in urls
        if urlsplit(url).scheme not in LOCAL_SCHEMES and urlsplit(url).hostname != "127.0.0.1"
    ]
    assert urls  # the log did record the page loads
    assert outside == []
    assert errors == []
