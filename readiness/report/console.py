"""What `readiness report` prints: every criterion with its full id, then what to do about each
one that did not pass (its first findings, or the exact `signed_off` entry a manual gate needs).

On a terminal a table whose text columns wrap on word boundaries (an id or a path is never cut);
elsewhere (CI logs, a pipe) a list, one criterion per line, that no width can mangle.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from readiness.report.model import CriterionReport, GateReport, Report

if TYPE_CHECKING:
    from rich.table import Table

FIRST_FINDINGS = 5
_STYLES = {"pass": "green", "fail": "red", "error": "yellow", "not-applicable": "dim"}


def table(report: Report) -> Table:
    """One row per criterion; the id column is as wide as the longest id, the summary wraps."""
    from rich.table import Table

    grid = Table(title=f"{report.plan_name}: {report.status.value}", title_justify="left")
    longest = max((len(criterion.id) for criterion in report.criteria), default=9)
    grid.add_column("criterion", no_wrap=True, min_width=longest)
    grid.add_column("status", no_wrap=True)
    grid.add_column("summary", overflow="fold")
    for criterion in report.criteria:
        style = _STYLES.get(criterion.status.value, "")
        grid.add_row(criterion.id, f"[{style}]{criterion.status.value}[/]", criterion.summary)
    return grid


def listing(report: Report) -> list[str]:
    """The same as plain lines: `status  id  summary`, nothing cut."""
    width = max((len(criterion.status.value) for criterion in report.criteria), default=4)
    lines = [f"{report.plan_name}: {report.status.value}"]
    lines += [
        f"  {criterion.status.value:<{width}}  {criterion.id}  {criterion.summary}"
        for criterion in report.criteria
    ]
    return lines


def _findings(gate: GateReport) -> list[str]:
    found = gate.details.get("findings")
    if not isinstance(found, list):
        return []
    lines = [
        f"{item.get('path')}:{item.get('line')}:{item.get('column')}: [{item.get('rule')}]"
        f" {item.get('message')}"
        for item in found[:FIRST_FINDINGS]
        if isinstance(item, dict)
    ]
    if len(found) > FIRST_FINDINGS:
        lines.append(f"... and {len(found) - FIRST_FINDINGS} more (report.md lists them)")
    return lines


def sign_off_snippet(criterion_id: str, today: date) -> list[str]:
    """The YAML a person adds to the manual gate of `criterion_id` to sign it off."""
    return [
        f"to sign it off, add to the manual gate of criterion {criterion_id} in the plan:",
        f'  signed_off: {{by: "Your Name", at: {today.isoformat()}}}',
    ]


def _what_to_do(criterion: CriterionReport, today: date) -> list[str]:
    lines: list[str] = []
    for gate in criterion.gates:
        if gate.status.value in ("pass", "not-applicable"):
            continue
        lines.append(f"{gate.kind}: {gate.status.value}: {gate.summary}")
        lines += [f"  {line}" for line in _findings(gate)]
        if gate.kind == "manual" and "signed_off_by" not in gate.details:
            lines += [f"  {line}" for line in sign_off_snippet(criterion.id, today)]
    return lines


def failing_details(report: Report) -> list[str]:
    """For each criterion that failed or erred: its gates that did not pass, with their first
    findings and, for a manual gate, the `signed_off` entry that would pass it."""
    today = report.generated_at.date()
    lines: list[str] = []
    for criterion in report.criteria:
        if criterion.status.value not in ("fail", "error"):
            continue
        lines.append(f"{criterion.id} ({criterion.status.value}): {criterion.title}")
        lines += [f"  {line}" for line in _what_to_do(criterion, today)]
    return lines
