"""Evaluate a plan and report it: Markdown for pull requests and job summaries, a self-contained
HTML page for people, JSON for machines, all rendered from one `Report`.

Reports are written atomically, together with `history.json` (the trend over earlier runs kept in
the output directory): a reader or a CI upload sees the previous complete set or the new one.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from git import GitCommandError, InvalidGitRepositoryError, NoSuchPathError, Repo
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from pydantic import ValidationError

from readiness.gates.result import GateContext, Status, worst
from readiness.gates.runner import DEFAULT_JOBS, CriterionResult, evaluate_criteria
from readiness.plan import Plan
from readiness.report_files import write_all_atomically
from readiness.report_model import (
    Counts,
    CriterionReport,
    GateReport,
    GitInfo,
    PhaseReport,
    Report,
    TaskReport,
    TrendPoint,
)
from readiness.report_trend import trend_chart

FORMATS = ("md", "html", "json")
log = logging.getLogger(__name__)
HISTORY_FILE = "history.json"
HISTORY_LIMIT = 100
REPORT_NAME = "report"


@dataclass(frozen=True)
class Written:
    report: Report
    paths: list[Path]


def git_metadata(root: Path, ignore: Path | None = None) -> GitInfo | None:
    """Commit, branch and whether the tree has changes; `ignore` (the report's own output
    directory) does not count as a change."""
    try:
        repo = Repo(root, search_parent_directories=True)
    except (InvalidGitRepositoryError, NoSuchPathError):
        if any((folder / ".git").exists() for folder in (root.resolve(), *root.resolve().parents)):
            log.warning("git metadata left out: git refuses to read the repository at %s", root)
        return None
    with repo:
        top = Path(repo.working_tree_dir or root).resolve()
        pathspec: list[str] = []
        if ignore is not None and ignore.resolve().is_relative_to(top):
            pathspec = ["--", f":(top,exclude){ignore.resolve().relative_to(top).as_posix()}"]
        try:
            status = repo.git.status("--porcelain", "--untracked-files=normal", *pathspec)
        except GitCommandError as error:  # e.g. "dubious ownership" in a CI container
            message = (error.stderr or str(error)).strip().removeprefix("stderr: ").strip("'")
            log.warning("git metadata left out: %s", message.splitlines()[0])
            return None
        if not repo.head.is_valid():
            return None  # a repository without commits yet
        branch = None if repo.head.is_detached else repo.active_branch.name
        return GitInfo(commit=repo.head.commit.hexsha, branch=branch, dirty=bool(status))


def load_history(out_dir: Path, plan_name: str | None = None) -> list[TrendPoint]:
    """Earlier runs of the same plan; an unreadable history is started afresh rather than failing
    the report, and runs of another plan written to the same directory are not its trend."""
    path = out_dir / HISTORY_FILE
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        points = [TrendPoint.model_validate(item) for item in raw]
    except (OSError, ValueError, TypeError, ValidationError):
        return []
    return [p for p in points if plan_name is None or p.plan in {None, plan_name}]


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


# ------------------------------------------------------------------------------------- rendering

_ENVIRONMENT = Environment(
    loader=PackageLoader("readiness", "templates"),
    autoescape=select_autoescape(enabled_extensions=("html", "html.j2"), default=False),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)
_ICONS = {"pass": "✅", "fail": "❌", "error": "⚠️", "not-applicable": "⚪"}


def _text(text: str) -> str:
    """Plan text in Markdown: one line, and no raw HTML (`<script>`, `</details>`) reaching a
    pull request comment or a job summary; entities render as the characters they stand for."""
    one_line = " ".join(str(text).split())
    return one_line.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _cell(text: str) -> str:
    """Markdown table cells: plan text with pipes escaped."""
    return _text(text).replace("|", "\\|")


def _fence(text: str) -> str:
    """A code fence longer than any backtick run inside the text."""
    longest = max((len(run) for run in text.split("\n") for run in _backtick_runs(run)), default=0)
    return "`" * max(3, longest + 1)


def _backtick_runs(line: str) -> list[str]:
    runs, current = [], ""
    for char in line:
        if char == "`":
            current += char
        elif current:
            runs.append(current)
            current = ""
    return [*runs, current] if current else runs


_ENVIRONMENT.filters["cell"] = _cell
_ENVIRONMENT.filters["text"] = _text
_ENVIRONMENT.filters["fence"] = _fence
_ENVIRONMENT.globals["icons"] = _ICONS


def render_markdown(report: Report) -> str:
    return _ENVIRONMENT.get_template("report.md.j2").render(report=report)


def render_html(report: Report) -> str:
    chart = trend_chart(report.trend)
    return _ENVIRONMENT.get_template("report.html.j2").render(report=report, chart=chart)


def render_json(report: Report) -> str:
    return report.to_json_text()


RENDERERS = {"md": render_markdown, "html": render_html, "json": render_json}


def write_reports(report: Report, out_dir: Path, formats: Sequence[str]) -> list[Path]:
    """All requested formats plus the history, each file complete or absent. A report of a
    format not chosen this time is removed: beside the new ones it would describe another run."""
    files = {out_dir / f"{REPORT_NAME}.{fmt}": RENDERERS[fmt](report) for fmt in formats}
    history = [point.model_dump(mode="json") for point in report.trend]
    files[out_dir / HISTORY_FILE] = json.dumps(history, indent=2) + "\n"
    write_all_atomically(files)
    for fmt in FORMATS:
        if fmt not in formats:
            (out_dir / f"{REPORT_NAME}.{fmt}").unlink(missing_ok=True)
    return list(files)


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
