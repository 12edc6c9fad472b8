"""The HTML report in a real browser: it loads without console errors and shows every criterion.

Headless Chromium from the Debian packages `chromium` and `chromium-driver`; when they are absent
the fixture installs them with apt-get, and skips (saying why) only where that is impossible.
Selenium is pointed at /usr/bin/chromedriver and never downloads a driver.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from readiness.gates.result import GateContext
from readiness.plan import parse_plan_yaml
from readiness.report.build import evaluate_and_write

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-dev-shm-usage",
    "--window-size=1200,1600",
]


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


@pytest.fixture(scope="module")
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
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()


PLAN = f"""\
name: Browser check
description: Every criterion must be visible, whatever its status.
phases:
  - id: p1
    title: Blockers
    tasks:
      - {{id: "1.1", title: Fix the build, priority: critical, day: 1, files: [package.json]}}
criteria:
  - id: files-present
    title: The README exists
    gate: {{kind: files, exist: [README.md]}}
  - id: command-fails
    title: A failing command with <markup> in its output
    gate: {{kind: command, argv: ["{sys.executable}", -c, "print('<b>not bold</b>'); exit(1)"]}}
  - id: coverage-missing
    title: Coverage not measured yet
    gate: {{kind: coverage, report: coverage.json, total: 90, missing_report: not-applicable}}
  - id: sign-off
    title: Documentation reviewed
    gate: {{kind: manual, note: Needs a person}}
"""


@pytest.mark.slow
def test_html_report_renders_every_criterion_without_console_errors(
    browser: Any, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By

    (tmp_path / "README.md").write_text("# demo\n")
    plan = parse_plan_yaml(PLAN)
    out = tmp_path / "reports"
    for hour in (9, 10):  # two runs, so the trend has a line
        context = GateContext(root=tmp_path, now=partial(datetime, 2026, 1, 10, hour, tzinfo=UTC))
        evaluate_and_write(
            plan, tmp_path / "readiness.yaml", tmp_path, out, ["html"], context=context
        )

    browser.get((out / "report.html").as_uri())

    shown = browser.find_elements(By.CSS_SELECTOR, "[data-criterion]")
    assert [e.get_attribute("data-criterion") for e in shown] == [c.id for c in plan.criteria]
    assert all(e.is_displayed() for e in shown)
    titles = [e.find_element(By.CSS_SELECTOR, ".title").text for e in shown]
    assert titles == [c.title for c in plan.criteria]
    assert browser.find_element(By.ID, "overall-status").text.lower() == "fail"
    evidence = shown[1].find_element(By.TAG_NAME, "pre")
    assert not evidence.is_displayed()  # folded away until asked for
    shown[1].find_element(By.TAG_NAME, "summary").click()
    assert "<b>not bold</b>" in evidence.text
    assert len(browser.find_elements(By.CSS_SELECTOR, "#trend circle")) == 2
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == []
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    assert browser.save_screenshot(str(SCREENSHOTS / "readiness-report.png"))
