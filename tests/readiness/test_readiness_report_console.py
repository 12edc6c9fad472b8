"""What `readiness report` prints: full ids whatever the width, the failing criteria with their
first findings, and a `signed_off` entry that, pasted into the plan, passes the manual gate."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import git

LONG_ID = "every-app-worker-reaches-ops-data-through-the-monitor-binding-only"
PLAN = f"""\
name: Adoption
criteria:
  - id: {LONG_ID}
    title: No app touches the ops database
    gate: {{kind: checks, rules: [db-ops-access]}}
  - id: on-call-agreed
    title: The on-call rota is agreed
    gate:
      kind: manual
      note: the team lead signs this off
"""
WORKER = "export const f = (env: Env) => env.DB_OPS.prepare('SELECT 1').all();\n"


def _repo(tmp_path: Path, plan: str) -> Path:
    root = tmp_path / "repo"
    (root / "apps" / "a").mkdir(parents=True)
    (root / "apps" / "a" / "index.ts").write_text(WORKER, encoding="utf-8")
    (root / "readiness.yaml").write_text(plan, encoding="utf-8")
    repo = git.Repo.init(root)
    repo.git.add(all=True)
    repo.git.commit("-m", "x", author="Test <test@example.invalid>")
    return root


def _report(root: Path, tmp_path: Path, columns: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "readiness", "report", str(root), "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        env={"COLUMNS": columns, "PATH": "/usr/bin:/bin", "READINESS_CACHE_DIR": str(tmp_path)},
        timeout=300,
        check=False,
    )


def test_off_a_terminal_criteria_are_listed_whole_with_the_first_findings(tmp_path: Path) -> None:
    root = _repo(tmp_path, PLAN)

    result = _report(root, tmp_path, columns="40")

    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "Adoption: fail"
    assert f"  fail  {LONG_ID}  1 finding(s) of db-ops-access (at most 0 allowed)" in lines
    assert f"{LONG_ID} (fail): No app touches the ops database" in lines
    assert any(
        line.strip().startswith("apps/a/index.ts:1:") and "[db-ops-access]" in line
        for line in lines
    )


def test_the_printed_signed_off_entry_passes_the_manual_gate(tmp_path: Path) -> None:
    root = _repo(tmp_path, PLAN)
    first = _report(root, tmp_path, columns="80")
    (snippet,) = [line.strip() for line in first.stdout.splitlines() if "signed_off:" in line]
    assert re.fullmatch(r'signed_off: \{by: "Your Name", at: \d{4}-\d{2}-\d{2}\}', snippet)
    assert "add to the manual gate of criterion on-call-agreed" in first.stdout

    signed = PLAN + f"      {snippet.replace('Your Name', 'Ada')}\n"
    (root / "readiness.yaml").write_text(signed, encoding="utf-8")
    second = _report(root, tmp_path, columns="80")

    assert "  pass  on-call-agreed  signed off by Ada on" in second.stdout
    assert "signed_off:" not in second.stdout


def test_the_terminal_table_never_cuts_an_id(tmp_path: Path) -> None:
    from io import StringIO

    from rich.console import Console

    from readiness.gates.result import Status
    from readiness.report.console import table
    from readiness.report.model import Counts, CriterionReport, Report

    report = Report(
        plan_name="Adoption",
        plan_description=None,
        plan_source="readiness.yaml",
        root=str(tmp_path),
        generated_at="2026-01-02T03:04:05Z",  # type: ignore[arg-type]
        git=None,
        status=Status.FAIL,
        counts=Counts(passed=0, failed=1, errors=0, not_applicable=0),
        duration=0.0,
        criteria=[
            CriterionReport(
                id=LONG_ID,
                title="t",
                status=Status.FAIL,
                summary="a summary long enough to wrap " * 3,
                duration=0.0,
                gates=[],
            )
        ],
        phases=[],
        unplaced=[],
        trend=[],
    )
    buffer = StringIO()

    Console(file=buffer, width=100, force_terminal=False).print(table(report))

    assert LONG_ID in buffer.getvalue()
    assert "…" not in buffer.getvalue()
