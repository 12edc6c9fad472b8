"""`readiness report`: evaluate the plan's gates and write the reports.

The modules behind it (pydantic models, Jinja2, GitPython) are imported when it runs, not when the
command is listed: `readiness --help` and `readiness check` must start fast.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import click

from checks.cli_support import UserError

if TYPE_CHECKING:
    from readiness.report.model import Report

# The same as readiness.report.render.FORMATS (a test holds them together), without importing it.
FORMATS = ("md", "html", "json")

REPORT_EXAMPLES = """\b
Examples:
  readiness report                                  this repository, reports in ./reports/
  readiness report examples/workers-monorepo        the demo: fails on its planted blockers
  readiness report . --out build/readiness --format md,json
  readiness report . --plan plans/release.yaml --step-summary
"""


def _formats(value: str) -> list[str]:
    chosen = [part.strip() for part in value.split(",") if part.strip()]
    unknown = [part for part in chosen if part not in FORMATS]
    if unknown or not chosen:
        raise click.BadParameter(f"{value!r}: choose from {', '.join(FORMATS)}")
    return list(dict.fromkeys(chosen))


@click.command(epilog=REPORT_EXAMPLES)
@click.argument("path", default=".", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--plan",
    "plan_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The plan (default: PATH/readiness.yaml, else [tool.readiness.plan] in pyproject.toml).",
)
@click.option(
    "--out", type=click.Path(file_okay=False, path_type=Path), help="Default: PATH/reports/."
)
@click.option(
    "--format",
    "formats",
    default="md,html,json",
    show_default=True,
    help="Comma-separated: md, html, json.",
)
@click.option(
    "--jobs",
    default=4,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Criteria evaluated at once.",
)
@click.option(
    "--step-summary",
    is_flag=True,
    help="Also append the Markdown to the file named by $GITHUB_STEP_SUMMARY.",
)
def report(
    path: Path,
    plan_file: Path | None,
    out: Path | None,
    formats: str,
    jobs: int,
    step_summary: bool,
) -> None:
    """Evaluate the plan's gates and write the reports. Exit 0 all pass, 1 otherwise, 2 bad plan."""
    from rich.console import Console

    from readiness.gates.result import GateContext, Status
    from readiness.plan import PlanError, find_plan, load_plan
    from readiness.report.build import evaluate_and_write
    from readiness.report.render import summary_table

    chosen = _formats(formats)
    root = path.resolve()
    try:
        source = plan_file or find_plan(root)
        plan = load_plan(source)
    except PlanError as error:
        for problem in error.problems[:-1]:
            click.echo(f"readiness: error: {problem}", err=True)
        raise UserError(error.problems[-1]) from error
    if not plan.criteria:
        raise UserError(f"{source}: the plan has no criteria, so there is nothing to evaluate")
    out_dir = out or root / "reports"
    # Where the results go is checked before the gates run: minutes of work must not end in
    # "cannot write" with nothing to show.
    _check_writable_dir(out_dir, "--out")
    summary_file = _step_summary_file() if step_summary else None
    if summary_file is not None:
        _check_writable_dir(summary_file.parent, "GITHUB_STEP_SUMMARY")
    try:
        written = evaluate_and_write(
            plan, source, root, out_dir, chosen, context=GateContext(root=root), jobs=jobs
        )
    except OSError as error:
        raise UserError(f"--out {out_dir}: cannot write the reports: {_reason(error)}") from error
    Console(soft_wrap=False).print(summary_table(written.report))
    for written_path in written.paths:
        click.echo(f"wrote {written_path}")
    if summary_file is not None:
        _append_step_summary(written.report, summary_file)
    raise click.exceptions.Exit(0 if written.report.status == Status.PASS else 1)


def _reason(error: OSError) -> str:
    return error.strerror or str(error)


def _check_writable_dir(directory: Path, what: str) -> None:
    """Create the directory if needed and prove a file can be made in it."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        probe = directory / f".readiness-probe-{os.getpid()}"
        probe.touch()
        probe.unlink()
    except OSError as error:
        raise UserError(f"{what} {directory}: cannot write there: {_reason(error)}") from error


def _step_summary_file() -> Path | None:
    target = os.environ.get("GITHUB_STEP_SUMMARY")
    if not target:
        click.echo("readiness: --step-summary: GITHUB_STEP_SUMMARY is not set; skipped", err=True)
        return None
    return Path(target)


def _append_step_summary(result: Report, target: Path) -> None:
    from readiness.report.render import render_markdown

    try:
        with target.open("a", encoding="utf-8") as summary:
            summary.write(render_markdown(result))
    except OSError as error:
        raise UserError(f"GITHUB_STEP_SUMMARY {target}: {_reason(error)}") from error
