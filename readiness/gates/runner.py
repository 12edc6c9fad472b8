"""Evaluate a plan's criteria: independent ones in parallel, each within its own time limit.

Gates run in daemon threads: a gate that hangs past its deadline is reported as an error and
abandoned, and it cannot keep the process alive afterwards. Commands enforce their own timeouts
and kill their process group, so an abandoned gate is rare and holds no child process.
"""

from __future__ import annotations

import importlib
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from readiness.gates.result import GateContext, GateResult, Status, worst
from readiness.plan import Criterion, GateSpec

DEFAULT_TIMEOUT = 600.0
DEFAULT_JOBS = 4
_SLACK = 30.0  # beyond a command's own timeout: time to kill it and collect its output
_DEADLINE_SLACK = 2.0  # beyond a criterion's timeout, for its gates to report that they stopped


def evaluator(kind: str) -> Callable[[Any, GateContext], GateResult]:
    """`readiness.gates.<kind>.evaluate`, imported on first use: a coverage-only run should not
    pay for loading the parsers of the audit or the HTTP client of the monitor gate."""
    module = importlib.import_module(f"readiness.gates.{kind}")
    function: Callable[[Any, GateContext], GateResult] = module.evaluate
    return function


@dataclass(frozen=True)
class CriterionResult:
    id: str
    title: str
    status: Status
    gates: list[GateResult]
    duration: float

    @property
    def summary(self) -> str:
        return "; ".join(g.summary for g in self.gates)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "status": self.status.value,
            "summary": self.summary,
            "duration": round(self.duration, 3),
            "gates": [g.to_json() for g in self.gates],
        }


def evaluate_gate(spec: GateSpec, context: GateContext) -> GateResult:
    """One gate, timed; an unexpected exception becomes an `error` result naming it."""
    started = time.monotonic()
    try:
        result = evaluator(spec.kind)(spec, context)
    except Exception as error:  # a gate must not take the whole report down with it
        message = f"{spec.kind} gate crashed: {type(error).__name__}: {error}"
        result = GateResult(spec.kind, Status.ERROR, message)
    return GateResult(
        result.kind,
        result.status,
        result.summary,
        result.evidence,
        result.details,
        time.monotonic() - started,
    )


def evaluate_criterion(criterion: Criterion, context: GateContext) -> CriterionResult:
    started = time.monotonic()
    if criterion.timeout is not None:  # commands stop themselves by then, not only the wait
        context = replace(context, deadline=started + criterion.timeout)
    results = [evaluate_gate(spec, context) for spec in criterion.gates]
    return CriterionResult(
        criterion.id,
        criterion.title,
        worst([r.status for r in results]),
        results,
        time.monotonic() - started,
    )


def time_limit(criterion: Criterion) -> float:
    """How long to wait for a criterion. With its own `timeout`, its commands stop themselves at
    that deadline and report it; the wait allows them a moment to do so."""
    if criterion.timeout is not None:
        return criterion.timeout + _DEADLINE_SLACK
    own = 0.0
    for spec in criterion.gates:
        if spec.kind == "command":
            own += spec.timeout + _SLACK
        elif spec.kind == "files" and spec.fresh is not None:
            own += spec.fresh.timeout + _SLACK
        elif spec.kind == "monitor" and spec.launch is not None:
            own += spec.launch.startup_timeout + DEFAULT_TIMEOUT
        else:
            own += DEFAULT_TIMEOUT
    return own


def evaluate_criteria(
    criteria: Sequence[Criterion], context: GateContext, *, jobs: int = DEFAULT_JOBS
) -> list[CriterionResult]:
    """Results in the plan's order; `after` orders criteria, everything else runs in parallel."""
    done: dict[str, CriterionResult] = {}
    pending = list(criteria)
    running: dict[str, tuple[Criterion, float, float]] = {}  # id -> criterion, start, deadline
    finished: queue.Queue[CriterionResult] = queue.Queue()

    def work(criterion: Criterion) -> None:
        finished.put(evaluate_criterion(criterion, context))

    while pending or running:
        for criterion in list(pending):
            if len(running) >= max(1, jobs):
                break
            if all(a in done for a in criterion.after):
                pending.remove(criterion)
                now = time.monotonic()
                running[criterion.id] = (criterion, now, now + time_limit(criterion))
                threading.Thread(target=work, args=(criterion,), daemon=True).start()
        if not running:  # what is left waits on itself
            for criterion in pending:
                done[criterion.id] = _stuck(criterion, "its `after` criteria form a cycle")
            break
        wait = max(0.0, min(deadline for _, _, deadline in running.values()) - time.monotonic())
        try:
            result = finished.get(timeout=wait)
        except queue.Empty:
            result = None
        if result is not None and result.id in running:
            running.pop(result.id)
            done[result.id] = result
        now = time.monotonic()
        for key, (criterion, started, deadline) in list(running.items()):
            if now >= deadline:
                running.pop(key)
                limit = criterion.timeout or deadline - started
                done[key] = _stuck(criterion, f"timed out after {limit:g}s", now - started)
    return [done[c.id] for c in criteria]


def _stuck(criterion: Criterion, why: str, duration: float = 0.0) -> CriterionResult:
    gate = GateResult(criterion.gate.kind, Status.ERROR, why, duration=duration)
    return CriterionResult(criterion.id, criterion.title, Status.ERROR, [gate], duration)
