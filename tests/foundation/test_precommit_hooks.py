"""Our pre-commit hook, used by another repository through `pre-commit try-repo`, for real."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import git
import pytest

ROOT = Path(__file__).resolve().parents[2]

DIRECT_ACCESS = """\
export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const rows = await env.DB_OPS.prepare("SELECT * FROM ops_issues").all();
    return Response.json(rows);
  },
};
"""

THROUGH_THE_MONITOR = """\
export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const issues = await env.ORCHESTRATOR_OPS_MONITOR.getOpenIssues();
    return Response.json(issues);
  },
};
"""


def _run_hook(repo: Path, files: list[str], home: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PRE_COMMIT_HOME": str(home),
        "GIT_AUTHOR_NAME": "test",
        "GIT_AUTHOR_EMAIL": "test@example.invalid",
        "GIT_COMMITTER_NAME": "test",
        "GIT_COMMITTER_EMAIL": "test@example.invalid",
    }
    command = [sys.executable, "-m", "pre_commit", "try-repo", str(ROOT), "readiness-check"]
    return subprocess.run(
        [*command, "--verbose", "--files", *files],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


@pytest.mark.slow
def test_hook_fails_on_direct_db_ops_access_and_passes_once_fixed(tmp_path: Path) -> None:
    app = tmp_path / "app"
    worker = app / "apps" / "base" / "worker" / "index.ts"
    worker.parent.mkdir(parents=True)
    worker.write_text(DIRECT_ACCESS)
    repo = git.Repo.init(app)
    repo.index.add(["apps/base/worker/index.ts"])
    home = tmp_path / "pre-commit-home"

    planted = _run_hook(app, ["apps/base/worker/index.ts"], home)

    assert planted.returncode == 1, planted.stdout + planted.stderr
    assert "db-ops-access" in planted.stdout
    assert "apps/base/worker/index.ts" in planted.stdout
    assert re.search(
        r"^apps/base/worker/index\.ts:3:\d+: error \[db-ops-access\]", planted.stdout, re.MULTILINE
    ), planted.stdout

    worker.write_text(THROUGH_THE_MONITOR)
    repo.index.add(["apps/base/worker/index.ts"])

    fixed = _run_hook(app, ["apps/base/worker/index.ts"], home)

    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
