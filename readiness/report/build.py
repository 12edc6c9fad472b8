"""Evaluate a plan and build its report: the gates' results, git metadata and the trend over
earlier runs, in the one model every format is rendered from."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from readiness.gates.result import GateContext, Status, worst
from readiness.gates.runner import DEFAULT_JOBS, CriterionResult, evaluate_criteria
from readiness.plan import Plan
from readiness.report.files import HISTORY_LIMIT, load_history, write_reports
from readiness.report.git import git_metadata
from readiness.report.model import (
    Counts,
    CriterionReport,
    GateReport,
    GitInfo,
    PhaseReport,
    Report,
    TaskReport,
    TrendPoint,
)


@dataclass(frozen=True)
class Written:
    report: Report
    paths: list[Path]


def build_report(
    plan: Plan,
    plan_source: Path,
    root: Path,
    results: Sequence[CriterionResult],
    *,
    generated_at: datetime,
    git: GitInfo | None,
    history: Sequence[TrendPoint],
    duration: float = 0.0,
) -> Report:
    statuses = [r.status for r in results]
    overall = worst(statuses)
    status = Status.PASS if overall in {Status.PASS, Status.NOT_APPLICABLE} else overall
    counts = Counts(
        passed=statuses.count(Status.PASS),
        failed=statuses.count(Status.FAIL),
        errors=statuses.count(Status.ERROR),
        not_applicable=statuses.count(Status.NOT_APPLICABLE),
    )
    this_run = TrendPoint(
        generated_at=generated_at,
        commit=git.commit if git else None,
        status=status,
        passed=statuses.count(Status.PASS),
        total=len(results),
        not_applicable=statuses.count(Status.NOT_APPLICABLE),
        plan=plan.name,
    )
    return Report(
        plan_name=plan.name,
        plan_description=plan.description,
        plan_source=_shown_path(plan_source, root),
        root=str(root),
        generated_at=generated_at,
        git=git,
        status=status,
        counts=counts,
        duration=round(duration, 3),
        criteria=[_criterion_report(r) for r in results],
        phases=[
            PhaseReport(
                id=phase.id,
                title=phase.title,
                tasks=[
                    TaskReport(
                        id=t.id, title=t.title, priority=t.priority.value, day=t.day, files=t.files
                    )
                    for t in phase.tasks
                ],
            )
            for phase in plan.phases
        ],
        unplaced=list(plan.unplaced),
        trend=[*list(history)[-(HISTORY_LIMIT - 1) :], this_run],
    )


def _criterion_report(result: CriterionResult) -> CriterionReport:
    return CriterionReport(
        id=result.id,
        title=result.title,
        status=result.status,
        summary=result.summary,
        duration=round(result.duration, 3),
        gates=[GateReport.model_validate(_jsonable(g.to_json())) for g in result.gates],
    )


def _jsonable(value: object) -> object:
    """Details come from gates as plain Python; make sure they survive a JSON round trip."""
    return json.loads(json.dumps(value, default=str))


def _shown_path(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)


def evaluate_and_write(
    plan: Plan,
    plan_source: Path,
    root: Path,
    out_dir: Path,
    formats: Sequence[str],
    *,
    context: GateContext | None = None,
    jobs: int = DEFAULT_JOBS,
) -> Written:
    context = context or GateContext(root=root)
    git = git_metadata(root, ignore=out_dir)  # our own earlier reports do not make it dirty
    started = datetime.now(UTC)
    results = evaluate_criteria(plan.criteria, context, jobs=jobs)
    finished = datetime.now(UTC)
    report = build_report(
        plan,
        plan_source,
        root,
        results,
        generated_at=context.now(),
        git=git,
        history=load_history(out_dir, plan.name),
        duration=(finished - started).total_seconds(),
    )
    return Written(report, write_reports(report, out_dir, formats))
