"""The `coverage` gate: a total minimum and a minimum per path glob, from any common report.

Per-path minimums exist because a healthy total can hide an untested corner: the plan asks for
80% on the ops routes whatever the rest of the code does.
"""

from __future__ import annotations

from dataclasses import dataclass

from checks.globs import matcher
from readiness.gates.coverage_reports import (
    CoverageData,
    CoverageReportError,
    FileCoverage,
    read_report,
)
from readiness.gates.result import GateContext, GateResult, Status
from readiness.plan import CoverageGate


@dataclass(frozen=True)
class Threshold:
    """One row of the verdict: a scope (`total` or a glob), its coverage and its minimum."""

    scope: str
    files: int
    covered: int
    total: int
    minimum: float

    @property
    def percent(self) -> float:
        return 100.0 * self.covered / self.total if self.total else 100.0

    @property
    def passed(self) -> bool:
        return self.files > 0 and round(self.percent, 2) >= self.minimum


def thresholds(data: CoverageData, total: float | None, paths: dict[str, float]) -> list[Threshold]:
    rows = []
    if total is not None:
        rows.append(_row("total", data.files, total))
    for glob, minimum in paths.items():
        matches = matcher([glob])
        rows.append(_row(glob, [f for f in data.files if matches(f.path)], minimum))
    return rows


def _row(scope: str, files: list[FileCoverage], minimum: float) -> Threshold:
    return Threshold(
        scope, len(files), sum(f.covered for f in files), sum(f.total for f in files), minimum
    )


def table(rows: list[Threshold]) -> str:
    width = max([len(r.scope) for r in rows] + [5])
    lines = [f"{'scope':<{width}}  files  covered  minimum  verdict"]
    for row in rows:
        verdict = "ok" if row.passed else ("no files" if row.files == 0 else "BELOW")
        lines.append(
            f"{row.scope:<{width}}  {row.files:>5}  {row.percent:>6.2f}%  {row.minimum:>6.2f}%"
            f"  {verdict}"
        )
    return "\n".join(lines)


def evaluate(spec: CoverageGate, context: GateContext) -> GateResult:
    report = context.root / spec.report
    if not report.exists():
        status = Status.NOT_APPLICABLE if spec.missing_report == "not-applicable" else Status.ERROR
        return GateResult("coverage", status, f"no coverage report at {spec.report}")
    try:
        data = read_report(report, context.root, spec.format)
    except CoverageReportError as error:
        return GateResult("coverage", Status.ERROR, str(error))
    rows = thresholds(data, spec.total, spec.paths)
    if not rows:
        return GateResult("coverage", Status.ERROR, "the gate sets no minimum (total or paths)")
    details = {
        "report": spec.report,
        "format": data.format,
        "rows": [
            {
                "scope": r.scope,
                "files": r.files,
                "percent": round(r.percent, 2),
                "minimum": r.minimum,
                "passed": r.passed,
            }
            for r in rows
        ],
    }
    empty = [r.scope for r in rows if r.files == 0]
    if empty:
        scopes = ", ".join("the whole report" if scope == "total" else scope for scope in empty)
        summary = f"no file in the report is counted for {scopes}"
        return GateResult("coverage", Status.ERROR, summary, table(rows), details)
    below = [r for r in rows if not r.passed]
    if below:
        summary = "; ".join(f"{r.scope} {r.percent:.2f}% < {r.minimum:g}%" for r in below)
        return GateResult("coverage", Status.FAIL, summary, table(rows), details)
    summary = "; ".join(f"{r.scope} {r.percent:.2f}% >= {r.minimum:g}%" for r in rows)
    return GateResult("coverage", Status.PASS, summary, table(rows), details)
