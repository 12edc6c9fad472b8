"""The coverage gate on real reports: coverage.py writes JSON, Cobertura XML and lcov here."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from readiness.cli import main
from readiness.gates import coverage
from readiness.gates.coverage_reports import CoverageReportError, detect_format, read_report
from readiness.gates.result import GateContext, Status
from readiness.plan import CoverageGate

ROUTES = """\
def scan(scope):
    if scope not in ("full", "incremental"):
        return 400
    return 200


def untested_route():
    return 1
"""
CORE = """\
def add(a, b):
    return a + b


def never_called(x):
    if x:
        return 1
    return 2
"""
DRIVER = """\
from app.api.routes import scan
from app.core import add

scan("full")
scan("bogus")
add(1, 2)
"""


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny package measured by coverage.py itself, with its reports in three formats."""
    root = tmp_path_factory.mktemp("covered")
    for relative, text in {
        "app/__init__.py": "",
        "app/api/__init__.py": "",
        "app/api/routes.py": ROUTES,
        "app/core.py": CORE,
        "driver.py": DRIVER,
    }.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text)
    env = {k: v for k, v in os.environ.items() if not k.startswith("COV")}
    coverage_cmd = [sys.executable, "-m", "coverage"]
    for args in (
        ["run", "--branch", "--source=app", "driver.py"],
        ["json", "-o", "coverage.json"],
        ["xml", "-o", "coverage.xml"],
        ["lcov", "-o", "coverage.info"],
    ):
        subprocess.run([*coverage_cmd, *args], cwd=root, env=env, check=True, capture_output=True)
    return root


def gate(project: Path, report: str, **kwargs: object) -> CoverageGate:
    return CoverageGate.model_validate({"kind": "coverage", "report": report, **kwargs})


@pytest.mark.parametrize(
    ("report", "fmt"),
    [("coverage.json", "coverage-json"), ("coverage.xml", "cobertura"), ("coverage.info", "lcov")],
)
def test_every_format_is_read_with_repository_relative_paths(
    project: Path, report: str, fmt: str
) -> None:
    data = read_report(project / report, project)

    assert data.format == fmt
    paths = {f.path for f in data.files}
    assert {"app/api/routes.py", "app/core.py"} <= paths
    assert all(f.covered <= f.total for f in data.files)


def test_our_total_equals_coverage_pys_own(project: Path) -> None:
    data = read_report(project / "coverage.json", project)
    rows = coverage.thresholds(data, 0, {})

    assert data.reported_total is not None
    assert rows[0].percent == pytest.approx(data.reported_total)


def test_pass_when_total_and_paths_reach_their_minimums(project: Path) -> None:
    spec = gate(project, "coverage.json", total=10, paths={"app/api/**": 50})

    result = coverage.evaluate(spec, GateContext(root=project))

    assert result.status == Status.PASS
    assert "app/api/**" in result.evidence
    assert [row["scope"] for row in result.details["rows"]] == ["total", "app/api/**"]


@pytest.mark.parametrize("report", ["coverage.json", "coverage.xml", "coverage.info"])
def test_fail_names_the_path_below_its_minimum(project: Path, report: str) -> None:
    spec = gate(project, report, paths={"app/core.py": 90, "app/api/**": 10})

    result = coverage.evaluate(spec, GateContext(root=project))

    assert result.status == Status.FAIL
    assert result.summary.startswith("app/core.py ")
    assert "< 90%" in result.summary
    assert "BELOW" in result.evidence


def test_glob_matching_nothing_is_an_error(project: Path) -> None:
    spec = gate(project, "coverage.json", paths={"ops_monitor/api/**": 80})

    result = coverage.evaluate(spec, GateContext(root=project))

    assert result.status == Status.ERROR
    assert result.summary == "no file in the report is counted for ops_monitor/api/**"


def test_missing_report_is_an_error_or_not_applicable(tmp_path: Path) -> None:
    context = GateContext(root=tmp_path)

    assert coverage.evaluate(gate(tmp_path, "c.json", total=90), context).status == Status.ERROR
    lenient = gate(tmp_path, "c.json", total=90, missing_report="not-applicable")
    assert coverage.evaluate(lenient, context).status == Status.NOT_APPLICABLE


def test_gate_without_minimums_is_an_error(project: Path) -> None:
    result = coverage.evaluate(gate(project, "coverage.json"), GateContext(root=project))

    assert result.status == Status.ERROR


def test_istanbul_json_summary(tmp_path: Path) -> None:
    summary = {
        "total": {"lines": {"total": 30, "covered": 24, "skipped": 0, "pct": 80}},
        str(tmp_path / "worker/api/ops.ts"): {"lines": {"total": 20, "covered": 18, "pct": 90}},
        str(tmp_path / "worker/index.ts"): {"lines": {"total": 10, "covered": 6, "pct": 60}},
    }
    report = tmp_path / "coverage" / "coverage-summary.json"
    report.parent.mkdir()
    report.write_text(json.dumps(summary))
    spec = gate(tmp_path, "coverage/coverage-summary.json", total=80, paths={"worker/api/**": 85})

    result = coverage.evaluate(spec, GateContext(root=tmp_path))

    assert result.status == Status.PASS
    assert read_report(report, tmp_path).reported_total == 80


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("c.json", "{not json", "c.json: not valid JSON: Expecting property name"),
        ("c.json", '{"neither": 1}', "cannot tell the report's format"),
        ("c.json", '{"files": {"a.py": {}}, "totals": {}}', "not a valid coverage-json report"),
        ("c.xml", "<coverage><unclosed>", "not a valid cobertura report"),
        ("c.xml", "<report/>", "not a Cobertura report"),
        ("c.info", "TN:\n", "no SF/end_of_record entries"),
    ],
)
def test_broken_reports_are_errors_naming_the_file(
    tmp_path: Path, name: str, text: str, message: str
) -> None:
    (tmp_path / name).write_text(text)

    with pytest.raises(CoverageReportError, match=message):
        read_report(tmp_path / name, tmp_path)
    assert coverage.evaluate(gate(tmp_path, name, total=1), GateContext(root=tmp_path)).status == (
        Status.ERROR
    )


def test_unreadable_report(tmp_path: Path) -> None:
    (tmp_path / "c.json").write_bytes(b"\xff\xfe\x00")

    with pytest.raises(CoverageReportError, match="cannot read"):
        read_report(tmp_path / "c.json", tmp_path)


def test_format_detection_by_content(tmp_path: Path) -> None:
    assert detect_format(tmp_path / "report", "SF:a.ts\n") == "lcov"
    assert detect_format(tmp_path / "report", "<?xml version='1.0'?><coverage/>") == "cobertura"


# ------------------------------------------------------------------------- readiness gate coverage


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    status = main(["gate", "coverage", *args])
    captured = capsys.readouterr()
    return status, captured.out + captured.err


def test_cli_passes_and_prints_the_table(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, output = run_cli(
        capsys,
        str(project / "coverage.json"),
        "--root",
        str(project),
        "--total",
        "10",
        "--path",
        "app/api/**=50",
    )

    assert status == 0
    assert "scope" in output
    assert "coverage: pass" in output


def test_cli_fails_below_a_minimum(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, output = run_cli(
        capsys, str(project / "coverage.xml"), "--root", str(project), "--path", "app/**=99"
    )

    assert status == 1
    assert "coverage: fail: app/** " in output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing.json", "--total", "90"], "no coverage report at"),
        (["x.json"], "give --total and/or at least one --path"),
        (["x.json", "--path", "no-equals"], "expected GLOB=PERCENT"),
        (["x.json", "--path", "a/**=140"], "expected GLOB=PERCENT"),
        (["x.json", "--path", "a/**=lots"], "expected GLOB=PERCENT"),
    ],
)
def test_cli_bad_input_exits_2(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    message: str,
) -> None:
    monkeypatch.chdir(tmp_path)

    status, output = run_cli(capsys, *args)

    assert status == 2
    assert message in output
