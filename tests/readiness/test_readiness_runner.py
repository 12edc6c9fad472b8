"""Evaluating a plan's criteria: parallel, ordered by `after`, bounded by time limits."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from readiness.gates.result import GateContext, Status
from readiness.gates.runner import evaluate_criteria, evaluate_gate, time_limit
from readiness.plan import Criterion, FilesGate, parse_plan_yaml

PY = sys.executable
WaitForExit = Callable[[int, float], bool]  # the conftest fixture


def criteria(yaml_text: str) -> list[Criterion]:
    return parse_plan_yaml(f"name: t\ncriteria:\n{yaml_text}").criteria


def test_results_keep_the_plans_order_and_combine_gates(tmp_path: Path) -> None:
    (tmp_path / "present.txt").write_text("x")
    plan = criteria(
        f"""
  - id: both
    title: Two gates, one fails
    gate: {{kind: files, exist: [present.txt]}}
    also: [{{kind: command, argv: ["{PY}", -c, "exit(4)"]}}]
  - id: fine
    title: Fine
    gate: {{kind: files, exist: [present.txt]}}
"""
    )

    results = evaluate_criteria(plan, GateContext(root=tmp_path))

    assert [r.id for r in results] == ["both", "fine"]
    assert [r.status for r in results] == [Status.FAIL, Status.PASS]
    assert [g.status for g in results[0].gates] == [Status.PASS, Status.FAIL]
    assert "exited 4" in results[0].summary
    assert results[0].to_json()["gates"][1]["kind"] == "command"


@pytest.mark.parametrize("jobs", [1, 4])
def test_after_runs_a_criterion_once_its_predecessor_is_done(tmp_path: Path, jobs: int) -> None:
    # The reader comes first: with one job and `after` ignored it would run before the writer.
    plan = criteria(
        f"""
  - id: reader
    title: Reads what the writer wrote
    gate: {{kind: files, exist: [written.txt]}}
    after: [writer]
  - id: writer
    title: Writes a file
    gate: {{kind: command, argv: ["{PY}", -c, "open('written.txt', 'w')"]}}
"""
    )

    results = evaluate_criteria(plan, GateContext(root=tmp_path), jobs=jobs)

    assert [r.status for r in results] == [Status.PASS, Status.PASS]


def test_a_cycle_in_after_is_reported_not_hung(tmp_path: Path) -> None:
    # A plan file with this cycle is refused when it loads; criteria built in code reach here.
    plan = [
        Criterion.model_validate({"id": a, "title": a, "gate": {"kind": "manual"}, "after": [b]})
        for a, b in (("a", "b"), ("b", "a"))
    ]

    results = evaluate_criteria(plan, GateContext(root=tmp_path))

    assert [r.status for r in results] == [Status.ERROR, Status.ERROR]
    assert "cycle" in results[0].summary


def test_a_criterion_past_its_time_limit_is_an_error_and_its_command_is_stopped(
    tmp_path: Path, wait_for_exit: WaitForExit
) -> None:
    plan = criteria(
        """
  - id: slow
    title: Slow
    timeout: 0.5
    gate:
      kind: command
      argv: [sh, -c, "echo $$ > slow.pid; exec sleep 300"]
      timeout: 300
  - id: quick
    title: Quick
    gate: {kind: manual, signed_off: {by: me, at: 2020-01-01}}
"""
    )

    results = evaluate_criteria(plan, GateContext(root=tmp_path), jobs=1)

    assert results[0].status == Status.ERROR
    assert results[0].summary.endswith(": timed out after 0.5s")
    assert results[1].status == Status.PASS
    slow = int((tmp_path / "slow.pid").read_text())
    assert wait_for_exit(slow, 60)  # stopped at the deadline, not abandoned


def test_time_limits_follow_the_gates_own_timeouts() -> None:
    plan = criteria(
        """
  - {id: a, title: A, gate: {kind: command, argv: [x], timeout: 10}}
  - {id: b, title: B, gate: {kind: files, fresh: {argv: [x], timeout: 20}}}
  - {id: c, title: C, gate: {kind: manual}, timeout: 3}
  - {id: d, title: D, gate: {kind: monitor, launch: {startup_timeout: 5}}}
  - {id: e, title: E, gate: {kind: manual}}
"""
    )

    assert [time_limit(c) for c in plan] == [40, 50, 5, 605, 600]


def test_a_crashing_gate_becomes_an_error_result(tmp_path: Path) -> None:
    # Path.glob refuses absolute patterns: an exception inside the gate, not a verdict.
    spec = FilesGate(kind="files", exist=["/etc/*"])

    result = evaluate_gate(spec, GateContext(root=tmp_path))

    assert result.status == Status.ERROR
    assert result.summary.startswith("files gate crashed: ")
