"""The readiness plan: phases, tasks, execution days and success criteria bound to gates.

A plan lives in `readiness.yaml` at the repository root, or in `[tool.readiness.plan]` of
`pyproject.toml` (the rest of `[tool.readiness]` configures the checks). Invalid plans are rejected
with one error per problem naming the file, the line and the field, because a plan is edited by hand
and a bare "validation failed" helps nobody.

Example (`readiness.yaml`)::

    version: 1
    name: Workers monorepo readiness
    phases:
      - id: phase-1
        title: Immediate Actions (Blockers)
        tasks:
          - id: "1.1"
            title: Fix Dependency & Tooling Issues
            priority: critical
            priority_note: Blocks all test work
            day: 1
            order: 1
            files: [orchestrator/package.json]
            steps:
              - title: Fix Rollup Dependencies
                files: [orchestrator/package.json]
                notes: ["Verify with: `cd orchestrator && npm run test:unit`"]
          - id: "1.2"
            title: Fix Critical Syntax Error
            priority: critical
            day: 1
            order: 2
            files: [orchestrator/worker/index.ts]
            depends_on: ["1.1"]
    execution_order:
      - day: 1
        title: Fix dependencies and syntax errors
        tasks: ["1.1", "1.2"]
    criteria:
      - id: typecheck
        title: TypeScript compilation passes
        gate: {kind: command, argv: [npm, run, typecheck:all], cwd: ., timeout: 600}
        also: [{kind: checks, rules: [tsconfig-jsx]}]
      - id: no-direct-db-ops
        title: All apps/ workers use ORCHESTRATOR_OPS_MONITOR
        gate: {kind: checks, rules: [db-ops-access], max_findings: 0}
      - id: ops-route-coverage
        title: Ops monitoring routes have 80%+ test coverage
        gate:
          kind: coverage
          report: coverage.json
          paths: {"ops_monitor/api/**": 80}
      - id: runbooks-fresh
        title: Runbooks are current
        gate: {kind: files, exist: [runbooks/*.md], fresh: {argv: [readiness, runbooks, --check]}}
      - id: monitor-fresh
        title: The monitor ran a full scan today
        gate: {kind: monitor, url: "http://127.0.0.1:8787", max_age_hours: 26}
      - id: docs
        title: Documentation updated
        gate: {kind: manual, note: Read by the on-call lead, signed_off: {by: ana, at: 2026-01-05}}

Gate kinds: `checks`, `command`, `coverage`, `files`, `monitor`, `manual`; their fields are the
models below. The JSON Schema for editors is `readiness/schema/plan.schema.json`, generated from
these models (`python -m readiness.plan` prints it).
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Callable, Sequence
from datetime import date, datetime
from enum import StrEnum
from graphlib import CycleError, TopologicalSorter
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    model_validator,
)

PLAN_FILE = "readiness.yaml"
SCHEMA_VERSION = 1
Id = Annotated[str, Field(min_length=1, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")]


class _Strict(BaseModel):
    """Unknown keys are errors: a misspelt `max_finding` must not silently mean "no limit"."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Priority(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class Step(_Strict):
    """A numbered item inside a task, kept so that importing a Markdown plan loses nothing."""

    title: str
    files: list[str] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)


class Task(_Strict):
    id: Id
    title: str
    priority: Priority = Priority.MEDIUM
    priority_note: str | None = None
    day: int | None = Field(default=None, ge=1)
    order: int | None = Field(default=None, ge=1)
    files: list[str] = Field(default_factory=list)
    depends_on: list[str] = Field(default_factory=list)
    steps: list[Step] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)


class Phase(_Strict):
    id: Id
    title: str
    tasks: list[Task] = Field(default_factory=list)


class Day(_Strict):
    """One entry of the execution order; `last_day` makes a span such as "Day 3-4"."""

    day: int = Field(ge=1)
    last_day: int | None = Field(default=None, ge=1)
    title: str
    tasks: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _span_is_forward(self) -> Day:
        if self.last_day is not None and self.last_day < self.day:
            raise ValueError(f"last_day {self.last_day} is before day {self.day}")
        return self


# ------------------------------------------------------------------------------------------ gates


class ChecksGate(_Strict):
    """Passes when the audit reports at most `max_findings` findings of the given rules."""

    kind: Literal["checks"]
    rules: list[str] = Field(default_factory=list, description="Rule ids; empty means all rules.")
    max_findings: int = Field(default=0, ge=0)
    paths: list[str] = Field(default_factory=list, description="Restrict the audit to these paths.")
    baseline: str | None = Field(
        default=None, description="Baseline file: only new findings count."
    )
    config_file: str | None = None


class CommandGate(_Strict):
    """Passes when the command exits with `expect_exit`; its output is kept as evidence."""

    kind: Literal["command"]
    argv: list[str] = Field(min_length=1)
    cwd: str | None = Field(default=None, description="Relative to the repository root.")
    timeout: float = Field(default=600, gt=0)
    expect_exit: int = 0
    env: dict[str, str] = Field(default_factory=dict)


class CoverageGate(_Strict):
    """Passes when total and per-path coverage reach their minimums (percent)."""

    kind: Literal["coverage"]
    report: str = Field(
        description="coverage.json, coverage.xml, lcov.info or coverage-summary.json"
    )
    format: Literal["auto", "coverage-json", "cobertura", "lcov", "istanbul"] = "auto"
    total: float | None = Field(default=None, ge=0, le=100)
    paths: dict[str, Annotated[float, Field(ge=0, le=100)]] = Field(
        default_factory=dict, description="Glob of source paths -> minimum percent."
    )
    missing_report: Literal["error", "not-applicable"] = "error"


class FreshCommand(_Strict):
    argv: list[str] = Field(min_length=1)
    cwd: str | None = None
    timeout: float = Field(default=300, gt=0)


class FilesGate(_Strict):
    """Passes when every glob matches a file and the generated files are fresh."""

    kind: Literal["files"]
    exist: list[str] = Field(default_factory=list)
    fresh: FreshCommand | None = Field(
        default=None, description="A command that exits 0 when generated files match templates."
    )
    missing: Literal["fail", "not-applicable"] = Field(
        default="fail",
        description="When a glob matches nothing: fail, or not-applicable for optional outputs.",
    )

    @model_validator(mode="after")
    def _has_a_check(self) -> FilesGate:
        if not self.exist and self.fresh is None:
            raise ValueError("a files gate needs `exist` or `fresh`")
        return self


class LogFile(_Strict):
    path: str
    format: Literal["jsonl", "wrangler", "text"] = "jsonl"


class LaunchMonitor(_Strict):
    """Start a throwaway monitor on a temporary SQLite file, feed it logs and run a full scan."""

    logs: list[LogFile] = Field(default_factory=list)
    checkin_history: str | None = Field(
        default=None,
        description="A cron check-in history (YAML, times relative to now) to declare the "
        "repository's cron monitors with and replay into the throwaway monitor.",
    )
    startup_timeout: float = Field(default=30, gt=0)
    settings: dict[str, str | int | float] = Field(
        default_factory=dict,
        description="Monitor settings (as OPS_MONITOR_<NAME>), e.g. retention_days for old logs.",
    )


class CronMonitorsRequirement(_Strict):
    """Every cron trigger of the repository's Wrangler configs must have a cron monitor (as
    `readiness monitors sync` declares them) that is `ok`, with no missed, failed or timed-out
    run within the window."""

    window_hours: float = Field(default=24, gt=0, le=24 * 366)
    path: str = Field(default=".", description="Where the Wrangler configs are, from the root.")


class MonitorGate(_Strict):
    """Asks a running monitor (through `OpsMonitorClient`) whether operations are healthy."""

    kind: Literal["monitor"]
    url: str | None = Field(default=None, description="Base URL; or set READINESS_MONITOR_URL.")
    token_env: str = "OPS_MONITOR_TOKEN"  # noqa: S105 - the name of a variable, not a secret
    max_age_hours: float = Field(default=26, gt=0)
    allow_open_critical: bool = False
    check_crons: bool = True
    cron_monitors: CronMonitorsRequirement | None = Field(
        default=None, description="Also require the repository's cron jobs to be monitored."
    )
    launch: LaunchMonitor | None = None
    missing_url: Literal["error", "not-applicable"] = Field(
        default="error",
        description="When neither `url` nor READINESS_MONITOR_URL is set: an error (a forgotten "
        "variable must not pass), or not-applicable where no monitor runs on purpose.",
    )


class SignOff(_Strict):
    by: str = Field(min_length=1)
    at: date | datetime


class ManualGate(_Strict):
    """A criterion a person signs off; it passes once `signed_off` names who and when."""

    kind: Literal["manual"]
    note: str = ""
    signed_off: SignOff | None = None


GateSpec = ChecksGate | CommandGate | CoverageGate | FilesGate | MonitorGate | ManualGate
Gate = Annotated[GateSpec, Field(discriminator="kind")]
GATE_KINDS = ("checks", "command", "coverage", "files", "monitor", "manual")


class Criterion(_Strict):
    id: Id
    title: str
    gate: Gate
    also: list[Gate] = Field(
        default_factory=list, description="More gates that must pass too (all are evaluated)."
    )
    timeout: float | None = Field(default=None, gt=0, description="Seconds before the gate errs.")
    after: list[str] = Field(default_factory=list, description="Criteria that must be run first.")

    @property
    def gates(self) -> list[GateSpec]:
        return [self.gate, *self.also]


class Plan(_Strict):
    version: Literal[1] = 1
    name: str
    description: str | None = None
    phases: list[Phase] = Field(default_factory=list)
    execution_order: list[Day] = Field(default_factory=list)
    criteria: list[Criterion] = Field(default_factory=list)
    unplaced: list[str] = Field(
        default_factory=list, description="Source text an import could not place; for a reader."
    )

    @model_validator(mode="after")
    def _references_resolve(self, info: ValidationInfo) -> Plan:
        """Built in code, a plan fails on its first cross-reference problem; loaded from a file
        (`_validate`), every problem is reported with its own line instead."""
        if not (info.context or {}).get("defer_cross_checks"):
            problems = cross_reference_problems(self)
            if problems:
                raise ValueError(problems[0][1])
        return self

    def task_ids(self) -> list[str]:
        return [t.id for p in self.phases for t in p.tasks]

    def to_yaml(self) -> str:
        """Serialise for people: empty values left out, keys in declaration order."""
        data = _prune(self.model_dump(mode="json"))
        return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


def _prune(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _prune(v) for k, v in value.items() if v not in (None, [], {})}
    if isinstance(value, list):
        return [_prune(v) for v in value]
    return value


Loc = tuple[int | str, ...]


def cross_reference_problems(plan: Plan) -> list[tuple[Loc, str]]:
    """What a single field cannot know: unique ids, references that resolve, orders without
    cycles, rule ids the audit has. Each problem with the path of the item at fault."""
    problems: list[tuple[Loc, str]] = []
    phases = [(("phases", i, "id"), phase.id) for i, phase in enumerate(plan.phases)]
    problems += _duplicates(phases, "phase")
    tasks = [
        (("phases", i, "tasks", j), task)
        for i, phase in enumerate(plan.phases)
        for j, task in enumerate(phase.tasks)
    ]
    problems += _duplicates([((*loc, "id"), task.id) for loc, task in tasks], "task")
    problems += _duplicates(
        [(("criteria", i, "id"), c.id) for i, c in enumerate(plan.criteria)], "criterion"
    )
    task_ids = {task.id for _, task in tasks}
    for loc, task in tasks:
        missing = [d for d in task.depends_on if d not in task_ids]
        if missing:
            at: Loc = (*loc, "depends_on", task.depends_on.index(missing[0]))
            problems.append((at, f"task {task.id!r} depends on unknown task(s) {missing}"))
    known = task_ids | {p.id for p in plan.phases}
    for i, day in enumerate(plan.execution_order):
        missing = [t for t in day.tasks if t not in known]
        if missing:
            at = ("execution_order", i, "tasks", day.tasks.index(missing[0]))
            problems.append((at, f"day {day.day} lists unknown task(s) {missing}"))
    criterion_ids = {c.id for c in plan.criteria}
    for i, criterion in enumerate(plan.criteria):
        missing = [a for a in criterion.after if a not in criterion_ids]
        if missing:
            at = ("criteria", i, "after", criterion.after.index(missing[0]))
            problems.append((at, f"criterion {criterion.id!r} runs after unknown {missing}"))
    first_of_each: dict[str, tuple[Loc, list[str]]] = {}
    for loc, task in tasks:
        first_of_each.setdefault(task.id, (loc, task.depends_on))
    problems += _cycle(
        first_of_each,
        "depends_on",
        "tasks depend on each other in a cycle",
    )
    problems += _cycle(
        {c.id: (("criteria", i), c.after) for i, c in enumerate(plan.criteria)},
        "after",
        "criteria run after each other in a cycle",
    )
    problems += _unknown_rules(plan)
    return problems


def _duplicates(items: Sequence[tuple[Loc, str]], what: str) -> list[tuple[Loc, str]]:
    seen: set[str] = set()
    problems: list[tuple[Loc, str]] = []
    for loc, item in items:
        if item in seen:
            problems.append((loc, f"duplicate {what} id {item!r}"))
        seen.add(item)
    return problems


def _cycle(graph: dict[str, tuple[Loc, list[str]]], field: str, what: str) -> list[tuple[Loc, str]]:
    """One cycle of the graph, if it has any, reported at the first member's `field`."""
    sorter = TopologicalSorter({node: set(edges) for node, (_, edges) in graph.items()})
    try:
        sorter.prepare()
    except CycleError as error:
        cycle: list[str] = list(error.args[1])
        first = cycle[0] if cycle[0] in graph else cycle[-1]
        loc, _ = graph[first]
        return [((*loc, field), f"{what}: {' -> '.join(cycle)}")]
    return []


def _unknown_rules(plan: Plan) -> list[tuple[Loc, str]]:
    named = [
        (("criteria", i, *where, "rules", k), rule)
        for i, criterion in enumerate(plan.criteria)
        for where, gate in [(("gate",), criterion.gate)]
        + [(("also", n), g) for n, g in enumerate(criterion.also)]
        if isinstance(gate, ChecksGate)
        for k, rule in enumerate(gate.rules)
    ]
    if not named:
        return []
    from checks.registry import rule_ids

    known = rule_ids()
    return [
        (loc, f"unknown rule {rule!r}; the rules are {', '.join(sorted(known))}")
        for loc, rule in named
        if rule not in known
    ]


# ---------------------------------------------------------------------------------------- loading


class PlanError(Exception):
    """A plan that cannot be used; each message names the file, the line and the field."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def load_plan(path: Path) -> Plan:
    """Read a plan from `readiness.yaml` (any YAML file) or from a `pyproject.toml`."""
    if not path.is_file():
        raise PlanError([f"{path}: no such plan file"])
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise PlanError([f"{path}: not UTF-8 text (byte {error.start}: {error.reason})"]) from None
    except OSError as error:
        raise PlanError([f"{path}: cannot read: {error.strerror or error}"]) from None
    if path.suffix == ".toml":
        return _load_pyproject(path, text)
    return parse_plan_yaml(text, str(path))


def find_plan(root: Path) -> Path:
    """The plan of a repository: `readiness.yaml`, else pyproject's `[tool.readiness.plan]`."""
    for name in (PLAN_FILE, "readiness.yml"):
        candidate = root / name
        if candidate.is_file():
            return candidate
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        try:
            tool = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("tool", {})
        except tomllib.TOMLDecodeError as error:
            raise PlanError([f"{pyproject}: {error}"]) from error
        if isinstance(tool.get("readiness"), dict) and "plan" in tool["readiness"]:
            return pyproject
    raise PlanError([f"{root}: no {PLAN_FILE} and no [tool.readiness.plan] in pyproject.toml"])


def parse_plan_yaml(text: str, filename: str = PLAN_FILE) -> Plan:
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{filename}:{mark.line + 1}" if mark is not None else filename
        problem = getattr(error, "problem", None) or str(error)
        raise PlanError([f"{where}: invalid YAML: {problem}"]) from error
    if not isinstance(data, dict):
        raise PlanError([f"{filename}:1: a plan is a mapping with `name`, `phases` and `criteria`"])
    repeated = [
        f"{filename}:{line}: {_dotted((*loc, key))}: duplicate key {key!r} (the earlier value "
        "would be silently replaced)"
        for loc, key, line in _duplicate_keys(node, ())
    ]
    if repeated:
        raise PlanError(repeated)
    return _validate(data, filename, lambda loc: _line_of(node, loc))


def _duplicate_keys(node: yaml.Node | None, loc: Loc) -> list[tuple[Loc, str, int]]:
    """Keys given twice in one mapping, anywhere in the document: YAML loaders keep the last."""
    found: list[tuple[Loc, str, int]] = []
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            name = str(key.value)
            if name in seen:
                found.append((loc, name, key.start_mark.line + 1))
            seen.add(name)
            found += _duplicate_keys(value, (*loc, name))
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            found += _duplicate_keys(item, (*loc, index))
    return found


def _load_pyproject(path: Path, text: str) -> Plan:
    try:
        tool = tomllib.loads(text).get("tool", {})
    except tomllib.TOMLDecodeError as error:
        raise PlanError([f"{path}: {error}"]) from error
    data = (
        tool.get("readiness", {}).get("plan") if isinstance(tool.get("readiness"), dict) else None
    )
    if not isinstance(data, dict):
        raise PlanError([f"{path}: no [tool.readiness.plan] table"])
    return _validate(data, f"{path} [tool.readiness.plan]", lambda loc: _toml_line(text, loc))


def _toml_line(text: str, loc: Loc) -> int | None:
    """The line of a plan field in pyproject.toml. tomllib keeps no positions, so the field is
    found the way a reader would: the N-th `[[tool.readiness.plan.<list>]]` table of a list
    item, then `<key> =` inside it; else the `[tool.readiness.plan]` header."""
    lines = text.splitlines()

    def header_lines(name: str) -> list[int]:
        return [n for n, line in enumerate(lines) if line.strip().replace(" ", "") == name]

    def key_line(start: int, key: str) -> int | None:
        pattern = re.compile(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*=")
        for n in range(start + 1, len(lines)):
            if lines[n].lstrip().startswith("["):
                return None
            if pattern.match(lines[n]):
                return n
        return None

    plan_headers = header_lines("[tool.readiness.plan]")
    found = plan_headers[0] if plan_headers else None
    if len(loc) >= 2 and isinstance(loc[0], str) and isinstance(loc[1], int):
        tables = header_lines(f"[[tool.readiness.plan.{loc[0]}]]")
        if loc[1] < len(tables):
            found = tables[loc[1]]
            if len(loc) >= 3 and isinstance(loc[2], str):
                found = key_line(found, loc[2]) or found
    elif loc and isinstance(loc[0], str) and found is not None:
        found = key_line(found, loc[0]) or found
    return None if found is None else found + 1


def _validate(
    data: dict[str, Any], filename: str, line_of: Callable[[tuple[int | str, ...]], int | None]
) -> Plan:
    def located(loc: Loc, message: str) -> str:
        line = line_of(loc)
        where = f"{filename}:{line}" if line else filename
        return f"{where}: {_dotted(loc)}: {message}"

    try:
        plan = Plan.model_validate(data, context={"defer_cross_checks": True})
    except ValidationError as error:
        problems = [
            located(_clean_loc(item["loc"]), item["msg"].removeprefix("Value error, "))
            for item in error.errors()
        ]
        raise PlanError(problems) from error
    cross = cross_reference_problems(plan)
    if cross:
        raise PlanError([located(loc, message) for loc, message in cross])
    return plan


def _dotted(loc: tuple[int | str, ...]) -> str:
    """`criteria[0].gate.argv`: the way a person would point at the field."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else str(part)
    return text or "(plan)"


def _clean_loc(loc: tuple[int | str, ...]) -> tuple[int | str, ...]:
    """Drop pydantic's union-member tags (`command`, `function-after[...]`) from error paths."""
    cleaned: list[int | str] = []
    for index, part in enumerate(loc):
        after_gate = index > 0 and bool(cleaned) and cleaned[-1] == "gate"
        if isinstance(part, str) and ((after_gate and part in GATE_KINDS) or "[" in part):
            continue
        cleaned.append(part)
    return tuple(cleaned)


def _line_of(root: yaml.Node | None, loc: tuple[int | str, ...]) -> int | None:
    """The 1-based line of the deepest YAML node the error path reaches."""
    node = root
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        child: yaml.Node | None = None
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if key.value == str(part):
                    child = value
                    line = key.start_mark.line + 1
                    break
        elif (
            isinstance(node, yaml.SequenceNode)
            and isinstance(part, int)
            and 0 <= part < len(node.value)
        ):
            child = node.value[part]
            line = child.start_mark.line + 1
        if child is None:
            break
        node = child
    return line


def plan_json_schema() -> dict[str, Any]:
    schema = Plan.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://example.invalid/readiness-toolkit/plan.schema.json"
    schema["title"] = "readiness plan"
    return schema


def schema_path(name: str) -> Path:
    return Path(__file__).parent / "schema" / name


if __name__ == "__main__":
    print(json.dumps(plan_json_schema(), indent=2))
