"""Shipped plans, this repository's plan and the example's: valid, and pointing at real things."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from checks.registry import rules
from readiness.cli import main
from readiness.gates import files as files_gate
from readiness.gates.monitor_launch import monitor_environment
from readiness.gates.result import GateContext, Status
from readiness.plan import (
    PLAN_FILE,
    ChecksGate,
    CommandGate,
    CoverageGate,
    FilesGate,
    LaunchMonitor,
    ManualGate,
    MonitorGate,
    Plan,
    load_plan,
    parse_plan_yaml,
)
from readiness.plans import DEFAULT_OUTPUT, plan_text, shipped_plans

from .conftest import REPO_ROOT

EXAMPLE = REPO_ROOT / "examples" / "workers-monorepo"
SEED_RULES = {"db-ops-access", "syntax-error", "tsconfig-jsx", "cron-handler", "missing-dependency"}


LOCAL_PLANS = {
    "this-repository": REPO_ROOT / "readiness.yaml",
    "example": EXAMPLE / "readiness.yaml",
}


def load(name: str) -> Plan:
    if name in LOCAL_PLANS:
        return load_plan(LOCAL_PLANS[name])
    return parse_plan_yaml(plan_text(name), f"{name}.yaml")


def checks_rules(plan: Plan) -> set[str]:
    gates = [gate for criterion in plan.criteria for gate in criterion.gates]
    return {rule for gate in gates if isinstance(gate, ChecksGate) for rule in gate.rules}


def test_the_workers_monorepo_plan_ships_with_the_package() -> None:
    assert "workers-monorepo" in shipped_plans()
    with pytest.raises(KeyError, match="known: workers-monorepo"):
        plan_text("no-such-plan")


def test_workers_plan_follows_the_seed_plan() -> None:
    plan = parse_plan_yaml(plan_text("workers-monorepo"))

    assert [len(phase.tasks) for phase in plan.phases] == [3, 3]
    assert len(plan.execution_order) == 5
    assert {"1.1", "1.2"} == set(plan.execution_order[0].tasks)
    assert checks_rules(plan) == SEED_RULES
    assert len(plan.criteria) == 8
    kinds = {gate.kind for c in plan.criteria for gate in c.gates}
    assert {"checks", "command", "coverage", "monitor", "manual"} <= kinds
    (coverage,) = [c.gate for c in plan.criteria if isinstance(c.gate, CoverageGate)]
    assert coverage.paths == {"orchestrator/worker/api/**": 80}


@pytest.mark.parametrize("name", [*shipped_plans(), *LOCAL_PLANS])
def test_every_rule_a_plan_names_is_a_registered_rule(name: str) -> None:
    known = {rule.id for rule in rules()}

    assert checks_rules(load(name)) <= known


def test_this_repositorys_plan_gates_what_the_architecture_promises() -> None:
    plan = load_plan(REPO_ROOT / "readiness.yaml")
    gates = {c.id: c.gate for c in plan.criteria}

    coverage = gates["coverage"]
    assert coverage.kind == "coverage"
    assert (coverage.total, coverage.paths) == (90, {"ops_monitor/api/**": 80})
    assert coverage.missing_report == "not-applicable"
    fresh = gates["runbooks-fresh"]
    assert fresh.kind == "files"
    assert fresh.fresh is not None
    assert fresh.fresh.argv[-2:] == ["runbooks", "--check"]
    for name in fresh.exist:
        assert (REPO_ROOT / name).is_file()
    assert {"lint", "format", "import-contracts", "typecheck", "checks-clean"} <= set(gates)


def test_example_plan_launches_a_monitor_on_its_sample_logs() -> None:
    plan = load_plan(EXAMPLE / "readiness.yaml")
    (monitor,) = [c.gate for c in plan.criteria if isinstance(c.gate, MonitorGate)]

    assert monitor.launch is not None
    logs = [(EXAMPLE / log.path, log.format) for log in monitor.launch.logs]
    assert {fmt for _, fmt in logs} == {"wrangler", "jsonl"}
    for path, _ in logs:
        assert path.is_file()
        assert path.stat().st_size > 0


def test_example_plan_has_the_seed_plans_eight_criteria() -> None:
    plan = load_plan(EXAMPLE / "readiness.yaml")

    assert len(plan.criteria) == 8
    assert checks_rules(plan) <= SEED_RULES


def test_plan_init_writes_a_valid_starting_plan_and_never_overwrites(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "readiness.yaml"
    monkeypatch.chdir(tmp_path)

    created = main(["plan", "init", "--template", "workers-monorepo"])
    refused = main(["plan", "init"])
    refusal = capsys.readouterr().err
    forced = main(["plan", "init", "--force", "-o", str(target)])

    assert created == 0
    assert load_plan(target).name == "Workers monorepo production readiness"
    assert target.read_text() == plan_text("workers-monorepo")
    assert refused == 2
    assert "already exists (use --force" in refusal
    assert forced == 0


def test_benchmark_results_are_not_applicable_until_the_benchmarks_ran(tmp_path: Path) -> None:
    plan = load_plan(REPO_ROOT / "readiness.yaml")
    (spec,) = [c.gate for c in plan.criteria if c.id == "benchmarks-run"]
    assert isinstance(spec, FilesGate)
    context = GateContext(root=tmp_path)

    before = files_gate.evaluate(spec, context)
    (tmp_path / "build" / "bench").mkdir(parents=True)
    (tmp_path / "build" / "bench" / "push.json").write_text('{"records_per_second": 1}')
    after = files_gate.evaluate(spec, context)

    assert before.status is Status.NOT_APPLICABLE
    assert "missing build/bench/*.json" in before.summary
    assert after.status is Status.PASS


def planted_rules() -> set[str]:
    """The rules of the findings the example's EXPECTED.md lists (`| rule | path | line |`)."""
    text = (EXAMPLE / "EXPECTED.md").read_text(encoding="utf-8")
    return set(re.findall(r"^\| ([a-z-]+) \| \S+ \| \d+ \|", text, re.MULTILINE))


def test_every_planted_blocker_of_the_example_is_gated_and_nothing_else_is_audited() -> None:
    plan = load_plan(EXAMPLE / "readiness.yaml")
    audited = {
        c.id: {rule for gate in c.gates if isinstance(gate, ChecksGate) for rule in gate.rules}
        for c in plan.criteria
    }

    assert planted_rules() == SEED_RULES
    assert set().union(*audited.values()) == planted_rules()
    for criterion in plan.criteria:
        gates = criterion.gates
        if not audited[criterion.id]:
            # what is not a planted blocker must be able to pass in the example
            assert not any(isinstance(gate, CommandGate) for gate in gates), criterion.id
            assert all(g.signed_off for g in gates if isinstance(g, ManualGate)), criterion.id


def test_launch_settings_reach_the_monitor_as_its_environment() -> None:
    spec = LaunchMonitor(settings={"retention_days": 36500, "slow_request_ms": 250.5})

    env = monitor_environment(spec, {"PATH": "/usr/bin", "OPS_MONITOR_RETENTION_DAYS": "7"})

    assert env == {
        "PATH": "/usr/bin",
        "OPS_MONITOR_RETENTION_DAYS": "36500",
        "OPS_MONITOR_SLOW_REQUEST_MS": "250.5",
    }


def test_example_sample_logs_fall_inside_the_launched_monitors_retention() -> None:
    plan = load_plan(EXAMPLE / "readiness.yaml")
    (monitor,) = [c.gate for c in plan.criteria if isinstance(c.gate, MonitorGate)]
    assert monitor.launch is not None
    retention = timedelta(days=float(monitor.launch.settings["retention_days"]))
    lines = (EXAMPLE / "logs" / "apps.jsonl").read_text(encoding="utf-8").splitlines()
    oldest = min(datetime.fromisoformat(json.loads(line)["timestamp"]) for line in lines if line)

    assert datetime.now(UTC) - oldest < retention


def test_plan_init_writes_where_the_report_looks_first() -> None:
    assert DEFAULT_OUTPUT == PLAN_FILE
