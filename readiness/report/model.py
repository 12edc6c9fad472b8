"""The one report model that Markdown, HTML and JSON are all rendered from.

Pydantic models, so that the JSON schema published in `readiness/schema/report.schema.json` is
generated from the very classes that write the JSON, and cannot drift from it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from readiness.gates.result import Status


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class GitInfo(_Model):
    commit: str = Field(description="Full SHA of HEAD.")
    branch: str | None = Field(description="Checked-out branch; null when HEAD is detached.")
    dirty: bool = Field(description="Uncommitted changes (tracked or untracked) when evaluated.")


class GateReport(_Model):
    kind: Literal["checks", "command", "coverage", "files", "monitor", "manual"]
    status: Status
    summary: str = Field(description="One line a person can act on.")
    evidence: str = Field(description="Output, findings or tables, truncated to a few KB.")
    details: dict[str, Any] = Field(description="Structured evidence; its keys depend on kind.")
    duration: float = Field(description="Seconds.")


class CriterionReport(_Model):
    id: str
    title: str
    status: Status = Field(description="The most alarming status among its gates.")
    summary: str
    duration: float
    gates: list[GateReport]


class TaskReport(_Model):
    id: str
    title: str
    priority: str
    day: int | None
    files: list[str]


class PhaseReport(_Model):
    id: str
    title: str
    tasks: list[TaskReport]


class TrendPoint(_Model):
    """One earlier (or this) run, as kept in the output directory's history.json."""

    generated_at: datetime
    commit: str | None
    status: Status
    passed: int = Field(description="Criteria that passed.")
    total: int
    not_applicable: int = Field(default=0, description="Criteria that did not apply (of total).")
    plan: str | None = Field(
        default=None, description="The plan's name; runs of others are kept apart."
    )


class Counts(_Model):
    passed: int
    failed: int
    errors: int
    not_applicable: int


class Report(_Model):
    schema_version: Literal[1] = 1
    plan_name: str
    plan_description: str | None
    plan_source: str = Field(description="The plan file, relative to the repository when inside.")
    root: str
    generated_at: datetime
    git: GitInfo | None = Field(description="Null outside a git repository.")
    status: Status = Field(description="pass when no criterion failed or erred.")
    counts: Counts
    duration: float
    criteria: list[CriterionReport]
    phases: list[PhaseReport]
    unplaced: list[str]
    trend: list[TrendPoint] = Field(description="Earlier runs, oldest first, then this one.")

    def to_json_text(self) -> str:
        return self.model_dump_json(indent=2) + "\n"


def report_json_schema() -> dict[str, Any]:
    schema = Report.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://example.invalid/readiness-toolkit/report.schema.json"
    schema["title"] = "readiness report"
    schema["description"] = (
        "The JSON written by `readiness report` (report.json): one plan's criteria, each with "
        "its gates' verdicts and evidence, git metadata and the trend over earlier runs."
    )
    return schema


if __name__ == "__main__":
    import json

    print(json.dumps(report_json_schema(), indent=2))
