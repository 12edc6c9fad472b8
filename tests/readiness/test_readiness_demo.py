"""The README's first command: `readiness report examples/workers-monorepo`.

The example is built to fail on exactly its planted blockers (see its EXPECTED.md); everything
else, including a throwaway monitor on SQLite fed with the sample logs, must pass or not apply.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from readiness.cli import main

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "workers-monorepo"
BLOCKERS = {
    "dependencies-declared",
    "typescript-jsx",
    "scheduled-handler-parses",
    "monitor-binding",
    "cron-monitoring",  # the orchestrator's crons never check in: its handler does not parse
}


@pytest.mark.slow
def test_demo_fails_on_exactly_the_planted_blockers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["report", str(EXAMPLE), "--out", str(tmp_path)])

    report = json.loads((tmp_path / "report.json").read_text())
    verdicts = {c["id"]: c["status"] for c in report["criteria"]}
    assert status == 1, capsys.readouterr()
    assert {cid for cid, verdict in verdicts.items() if verdict != "pass"} == BLOCKERS | {
        "ops-route-coverage"
    }
    assert {verdicts[cid] for cid in BLOCKERS} == {"fail"}
    assert verdicts["ops-route-coverage"] == "not-applicable"
    monitor = next(c for c in report["criteria"] if c["id"] == "cron-monitoring")
    evidence = monitor["gates"][0]["evidence"]
    assert "ran full scan" in evidence
    assert "pushed logs/apps.jsonl" in evidence
    summary = monitor["gates"][0]["summary"]
    assert "orchestrator '0 2 * * *'" in summary
    assert "orchestrator '0 */4 * * *'" in summary
    assert "specialist-notifier" not in summary  # its crons check in on time
    assert "monitor `orchestrator-0-2-x-x-x` is missed" in evidence
    assert "ok   specialist-notifier '*/30 * * * *'" in evidence
