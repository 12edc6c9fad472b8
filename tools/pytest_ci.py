"""A pytest plugin for this suite (loaded by `-p tools.pytest_ci` in pyproject's addopts).

Locally a test may skip when a service it needs (PostgreSQL, node, Chromium) is missing, saying
why. In CI (`CI=true`) nothing may pass by not running: every skip is turned into a failure that
keeps the skip's reason, so a missing service fails the run and names itself.
"""

from __future__ import annotations

import os
from collections.abc import Generator

import pytest


def ci_forbids_skips() -> bool:
    """True when the run is CI's, where a skipped test counts as a failed one."""
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, None]:
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    if not (report.skipped and ci_forbids_skips()) or hasattr(report, "wasxfail"):
        return
    reason = _skip_reason(report)
    report.outcome = "failed"
    report.longrepr = f"CI=true: a test may not skip, and this one would have: {reason}"


def _skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)
