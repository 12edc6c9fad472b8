"""`readiness gate coverage`: a coverage report checked against minimums, total and per path."""

from __future__ import annotations

from pathlib import Path

import click

from readiness.commands.gate import GATE_EXAMPLES


def _path_minimum(value: str) -> tuple[str, float]:
    glob, sep, number = value.rpartition("=")
    try:
        minimum = float(number)
    except ValueError:
        minimum = -1.0
    if not sep or not glob or not 0 <= minimum <= 100:
        raise click.BadParameter(f"{value!r}: expected GLOB=PERCENT, e.g. 'ops_monitor/api/**=80'")
    return glob, minimum


@click.command("coverage", epilog=GATE_EXAMPLES)
@click.argument("report_file", metavar="REPORT", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--total", type=click.FloatRange(0, 100), help="Minimum total percent.")
@click.option(
    "--path",
    "paths",
    multiple=True,
    metavar="GLOB=PERCENT",
    help="Minimum percent for the files matching GLOB (repeatable).",
)
@click.option(
    "--format",
    "fmt",
    default="auto",
    show_default=True,
    type=click.Choice(["auto", "coverage-json", "cobertura", "lcov", "istanbul"]),
)
@click.option(
    "--root",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=".",
    show_default=True,
    help="Paths in the report are relative to this.",
)
def gate_coverage(
    report_file: Path, total: float | None, paths: tuple[str, ...], fmt: str, root: Path
) -> None:
    """Check a coverage report against minimums. Exit 0 pass, 1 below a minimum, 2 bad input."""
    from readiness.gates.coverage import evaluate as evaluate_coverage
    from readiness.gates.result import GateContext, Status
    from readiness.plan import CoverageGate

    minimums = dict(_path_minimum(value) for value in paths)
    if total is None and not minimums:
        raise click.UsageError("give --total and/or at least one --path GLOB=PERCENT")
    root = root.resolve()
    report_path = report_file if report_file.is_absolute() else Path.cwd() / report_file
    spec = CoverageGate(
        kind="coverage",
        report=str(report_path),
        format=fmt,  # type: ignore[arg-type]
        total=total,
        paths=minimums,
    )
    result = evaluate_coverage(spec, GateContext(root=root))
    if result.evidence:
        click.echo(result.evidence)
    click.echo(f"coverage: {result.status.value}: {result.summary}")
    if result.status == Status.ERROR:
        raise click.exceptions.Exit(2)
    raise click.exceptions.Exit(0 if result.status == Status.PASS else 1)
