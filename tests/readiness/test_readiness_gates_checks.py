"""The checks gate: our own audit, run in-process on a real git repository in tmp_path."""

from __future__ import annotations

from pathlib import Path

import pytest
from git import Repo

from readiness.gates import checks
from readiness.gates.result import GateContext, Status
from readiness.plan import ChecksGate

LEAKY_WORKER = """\
export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const rows = await env.DB_OPS.prepare("select 1").all();
    return Response.json(rows);
  },
};
"""
CLEAN_WORKER = """\
export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    return Response.json(await env.ORCHESTRATOR_OPS_MONITOR.getOpenIssues());
  },
};
"""


def repository(root: Path, files: dict[str, str]) -> Path:
    for relative, text in files.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text)
    with Repo.init(root) as repo:
        repo.index.add(list(files))
        repo.index.commit("fixture")
    return root


def gate(**fields: object) -> ChecksGate:
    return ChecksGate.model_validate({"kind": "checks", **fields})


def test_direct_db_ops_access_fails_with_the_finding_as_evidence(tmp_path: Path) -> None:
    root = repository(tmp_path, {"apps/billing/worker/index.ts": LEAKY_WORKER})

    result = checks.evaluate(gate(rules=["db-ops-access"]), GateContext(root=root))

    assert result.status == Status.FAIL
    assert result.summary == "1 finding(s) of db-ops-access (at most 0 allowed)"
    assert result.evidence.startswith("apps/billing/worker/index.ts:3:")
    assert result.details["findings"][0]["rule"] == "db-ops-access"


def test_a_clean_repository_passes(tmp_path: Path) -> None:
    root = repository(tmp_path, {"apps/billing/worker/index.ts": CLEAN_WORKER})

    result = checks.evaluate(gate(rules=["db-ops-access"]), GateContext(root=root))

    assert result.status == Status.PASS
    assert result.summary == "0 finding(s) of db-ops-access"


def test_max_findings_allows_a_known_debt(tmp_path: Path) -> None:
    root = repository(tmp_path, {"apps/billing/worker/index.ts": LEAKY_WORKER})

    result = checks.evaluate(gate(rules=["db-ops-access"], max_findings=1), GateContext(root=root))

    assert result.status == Status.PASS


def test_findings_of_other_rules_do_not_count(tmp_path: Path) -> None:
    root = repository(tmp_path, {"apps/billing/worker/index.ts": LEAKY_WORKER})

    result = checks.evaluate(gate(rules=["syntax-error"]), GateContext(root=root))

    assert result.status == Status.PASS


@pytest.mark.parametrize("fields", [{"rules": ["no-such-rule"]}, {"config_file": "absent.toml"}])
def test_an_audit_that_cannot_run_is_an_error(tmp_path: Path, fields: dict[str, object]) -> None:
    root = repository(tmp_path, {"apps/billing/worker/index.ts": CLEAN_WORKER})

    result = checks.evaluate(gate(**fields), GateContext(root=root))

    assert result.status == Status.ERROR
    assert result.summary.startswith("audit failed: ")
