"""Reports: one model, three renderings, atomic writing, git metadata, a trend and exit codes."""

from __future__ import annotations

import json
import os
import stat
import sys
from datetime import UTC, datetime
from pathlib import Path

import jsonschema
import pytest
from git import Repo

from readiness.atomic_write import write_all_atomically
from readiness.cli import main
from readiness.commands.report import FORMATS as CLI_FORMATS
from readiness.gates.result import GateContext, GateResult, Status
from readiness.gates.runner import CriterionResult, evaluate_criteria
from readiness.plan import parse_plan_yaml, schema_path
from readiness.report.build import build_report, evaluate_and_write
from readiness.report.files import HISTORY_FILE, load_history, write_reports
from readiness.report.git import git_metadata
from readiness.report.model import Report, report_json_schema
from readiness.report.render import FORMATS, render_html, render_json, render_markdown
from readiness.report.trend import trend_chart

PY = sys.executable
NOW = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)
PLAN = f"""\
name: Demo <plan>
description: A plan with <b>markup</b> in it.
phases:
  - id: p1
    title: Phase one
    tasks:
      - {{id: "1.1", title: Fix it, priority: critical, day: 1, files: [a.ts]}}
criteria:
  - id: good
    title: The file exists
    gate: {{kind: files, exist: [present.txt]}}
  - id: bad
    title: A command | with a pipe
    gate: {{kind: command, argv: ["{PY}", -c, "print('<script>alert(1)</script> ```'); exit(2)"]}}
  - id: na
    title: No coverage yet
    gate: {{kind: coverage, report: none.json, total: 90, missing_report: not-applicable}}
unplaced: ["line 3: something"]
"""


@pytest.fixture
def repo_root(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "present.txt").write_text("x")
    (root / "readiness.yaml").write_text(PLAN)
    with Repo.init(root, initial_branch="main") as repo:
        repo.index.add(["present.txt", "readiness.yaml"])
        repo.index.commit("initial")
    return root


def evaluate(root: Path, out: Path) -> Report:
    plan = parse_plan_yaml(PLAN)
    context = GateContext(root=root, now=lambda: NOW)
    return evaluate_and_write(
        plan, root / "readiness.yaml", root, out, FORMATS, context=context
    ).report


def test_report_model_counts_and_status(repo_root: Path, tmp_path: Path) -> None:
    report = evaluate(repo_root, tmp_path / "out")

    assert report.status == Status.FAIL
    assert [c.status for c in report.criteria] == [Status.PASS, Status.FAIL, Status.NOT_APPLICABLE]
    assert (report.counts.passed, report.counts.failed, report.counts.not_applicable) == (1, 1, 1)
    assert report.plan_source == "readiness.yaml"
    assert report.git is not None
    assert (report.git.branch, report.git.dirty) == ("main", False)
    assert report.phases[0].tasks[0].files == ["a.ts"]
    assert (report.trend[-1].passed, report.trend[-1].not_applicable) == (1, 1)
    assert report.trend[-1].plan == "Demo <plan>"


def test_json_report_validates_against_the_published_schema(
    repo_root: Path, tmp_path: Path
) -> None:
    evaluate(repo_root, tmp_path / "out")
    published = json.loads(schema_path("report.schema.json").read_text())

    document = json.loads((tmp_path / "out" / "report.json").read_text())

    assert published == report_json_schema()
    jsonschema.validate(document, published)
    assert document["criteria"][1]["gates"][0]["details"]["exit_code"] == 2
    assert Report.model_validate(document).status == Status.FAIL


def test_html_is_self_contained_and_escaped(repo_root: Path, tmp_path: Path) -> None:
    html = render_html(evaluate(repo_root, tmp_path / "out"))

    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Demo &lt;plan&gt;" in html
    assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in html
    assert html.count('class="criterion"') == 3
    assert "<details>" in html
    assert "<svg" in html


def test_markdown_is_a_table_with_folded_evidence(repo_root: Path, tmp_path: Path) -> None:
    markdown = render_markdown(evaluate(repo_root, tmp_path / "out"))

    assert markdown.startswith("## ❌ Readiness: Demo &lt;plan&gt; — FAIL")
    assert "| ❌ | A command \\| with a pipe |" in markdown
    assert "<details><summary>❌ <code>bad</code>: fail" in markdown
    assert "````text" in markdown  # the evidence holds ``` so the fence is longer
    assert "- line 3: something" in markdown


def test_a_failed_batch_changes_nothing_and_leaves_no_temporary(tmp_path: Path) -> None:
    (tmp_path / "report.md").write_text("old report")
    (tmp_path / "blocker").write_text("a file where a folder should be")

    with pytest.raises(FileExistsError):
        write_all_atomically({tmp_path / "report.md": "new", tmp_path / "blocker" / "x.json": "{}"})

    assert (tmp_path / "report.md").read_text() == "old report"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["blocker", "report.md"]


def test_a_report_that_cannot_be_placed_leaves_complete_files_only(
    repo_root: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    evaluate(repo_root, out)
    names = sorted(p.name for p in out.iterdir())
    (out / "report.html").unlink()
    (out / "report.html").mkdir()  # a folder where the HTML should go

    with pytest.raises(IsADirectoryError):
        evaluate(repo_root, out)

    assert sorted(p.name for p in out.iterdir()) == names  # no temporary left behind
    assert json.loads((out / "report.json").read_text())["plan_name"] == "Demo <plan>"


def test_atomic_writer_creates_folders(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "er" / "file.txt"

    write_all_atomically({target: "hello"})

    assert target.read_text() == "hello"


def test_atomic_writer_honours_the_umask_and_keeps_a_replaced_files_mode(tmp_path: Path) -> None:
    kept = tmp_path / "kept.yaml"
    kept.write_text("old")
    kept.chmod(0o640)
    previous = os.umask(0o022)
    try:
        write_all_atomically({tmp_path / "new.md": "new", kept: "replaced"})
    finally:
        os.umask(previous)

    assert stat.S_IMODE((tmp_path / "new.md").stat().st_mode) == 0o644
    assert stat.S_IMODE(kept.stat().st_mode) == 0o640
    assert kept.read_text() == "replaced"


def test_the_reports_own_directory_does_not_make_the_tree_dirty(repo_root: Path) -> None:
    evaluate(repo_root, repo_root / "reports")
    second = evaluate(repo_root, repo_root / "reports")
    (repo_root / "stray.txt").write_text("an untracked file elsewhere")
    third = evaluate(repo_root, repo_root / "reports")

    assert second.git is not None
    assert second.git.dirty is False
    assert third.git is not None
    assert third.git.dirty is True


def test_a_report_of_fewer_formats_removes_the_stale_ones(repo_root: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    report = evaluate(repo_root, out)

    write_reports(report, out, ["md"])

    assert sorted(p.name for p in out.iterdir()) == [HISTORY_FILE, "report.md"]


def test_plan_text_cannot_put_html_into_the_markdown(tmp_path: Path) -> None:
    plan = parse_plan_yaml(
        "name: <script>x</script>\ncriteria:\n"
        "  - {id: a, title: '</details><img src=x>', gate: {kind: manual, note: n}}\n"
        "unplaced: ['<b>bold</b> & more']\n"
    )
    results = evaluate_criteria(plan.criteria, GateContext(root=tmp_path))
    report = build_report(
        plan, tmp_path / "p.yaml", tmp_path, results, generated_at=NOW, git=None, history=[]
    )

    markdown = render_markdown(report)

    assert not any(tag in markdown for tag in ("<script>", "<img", "<b>"))
    assert "Readiness: &lt;script&gt;x&lt;/script&gt;" in markdown
    assert "&lt;/details&gt;&lt;img src=x&gt;" in markdown
    assert "- &lt;b&gt;bold&lt;/b&gt; &amp; more" in markdown


def test_trend_grows_with_each_run_and_survives_a_broken_history(
    repo_root: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    evaluate(repo_root, out)
    (repo_root / "present.txt").unlink()
    second = evaluate(repo_root, out)

    assert [(p.passed, p.total, p.not_applicable) for p in second.trend] == [(1, 3, 1), (0, 3, 1)]
    assert len(load_history(out)) == 2
    assert load_history(out, "another plan") == []  # its runs are not this plan's trend
    assert "1/2 passing, 1 not applicable" in trend_chart(second.trend).points[0].label
    chart = trend_chart(second.trend)
    assert chart.points[0].y < chart.points[1].y  # fewer passing: lower on the chart
    assert chart.polyline.count(",") == 2

    (out / HISTORY_FILE).write_text("{broken")
    assert load_history(out) == []


def test_single_point_trend_is_centred() -> None:
    report_time = NOW
    from readiness.report.model import TrendPoint

    chart = trend_chart(
        [TrendPoint(generated_at=report_time, commit=None, status=Status.PASS, passed=0, total=0)]
    )

    assert chart.points[0].x == chart.width / 2
    assert "no git" in chart.points[0].label


def test_git_metadata_sees_dirty_trees_and_detached_heads(repo_root: Path, tmp_path: Path) -> None:
    (repo_root / "new.txt").write_text("untracked")
    info = git_metadata(repo_root)
    assert info is not None
    assert info.dirty

    with Repo(repo_root) as repo:
        repo.git.checkout(repo.head.commit.hexsha)
    detached = git_metadata(repo_root)
    assert detached is not None
    assert detached.branch is None

    assert git_metadata(tmp_path / "elsewhere") is None
    (tmp_path / "empty").mkdir()
    Repo.init(tmp_path / "empty").close()
    assert git_metadata(tmp_path / "empty") is None


def test_a_repository_git_refuses_to_read_is_left_out_with_a_warning(
    repo_root: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (repo_root / ".git" / "index").write_bytes(b"not an index")  # git status now fails

    with caplog.at_level("WARNING", logger="readiness.report"):
        assert git_metadata(repo_root) is None

    assert "git metadata left out: " in caplog.text
    assert "index" in caplog.text


def test_report_outside_git_has_no_git_section(tmp_path: Path) -> None:
    plan = parse_plan_yaml("name: x\ncriteria: []\n")
    results: list[CriterionResult] = []

    report = build_report(
        plan,
        Path("/elsewhere/plan.yaml"),
        tmp_path,
        results,
        generated_at=NOW,
        git=None,
        history=[],
    )

    assert report.git is None
    assert report.status == Status.PASS
    assert report.plan_source == "/elsewhere/plan.yaml"
    assert "commit" not in render_markdown(report)
    paths = write_reports(report, tmp_path / "out", ["json"])
    assert [p.name for p in paths] == ["report.json", HISTORY_FILE]
    assert json.loads(render_json(report))["git"] is None


def test_error_outranks_fail_in_the_overall_status(tmp_path: Path) -> None:
    plan = parse_plan_yaml("name: x\n")
    results = [
        CriterionResult("a", "A", Status.FAIL, [GateResult("manual", Status.FAIL, "no")], 0.0),
        CriterionResult("b", "B", Status.ERROR, [GateResult("command", Status.ERROR, "x")], 0.0),
    ]

    report = build_report(
        plan, tmp_path / "p.yaml", tmp_path, results, generated_at=NOW, git=None, history=[]
    )

    assert report.status == Status.ERROR
    assert report.counts.errors == 1


def test_cli_and_renderers_agree_on_formats() -> None:
    assert tuple(CLI_FORMATS) == tuple(FORMATS)


# -------------------------------------------------------------------------------- readiness report


def test_cli_report_exit_1_on_failure_and_writes_every_format(
    repo_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["report", str(repo_root)])

    output = capsys.readouterr().out
    assert status == 1
    assert sorted(p.name for p in (repo_root / "reports").iterdir()) == [
        HISTORY_FILE,
        "report.html",
        "report.json",
        "report.md",
    ]
    assert "bad" in output
    assert f"wrote {repo_root / 'reports' / 'report.md'}" in output


def test_cli_report_exit_0_when_everything_passes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "pyproject.toml").write_text(
        "[tool.readiness.plan]\nname = 'ok'\n[[tool.readiness.plan.criteria]]\nid = 'a'\n"
        "title = 'A'\ngate = {kind = 'files', exist = ['pyproject.toml']}\n"
    )
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))

    status = main(
        ["report", str(tmp_path), "--out", str(tmp_path / "o"), "--format", "md", "--step-summary"]
    )

    assert status == 0
    assert (tmp_path / "o" / "report.md").is_file()
    assert not (tmp_path / "o" / "report.html").exists()
    assert summary.read_text().startswith("## ✅ Readiness: ok")


def test_cli_step_summary_without_the_variable_is_skipped(
    repo_root: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)

    main(["report", str(repo_root), "--format", "json", "--step-summary"])

    assert "GITHUB_STEP_SUMMARY is not set" in capsys.readouterr().err


def test_cli_report_exit_2_on_a_plan_error_naming_every_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = tmp_path / "plan.yaml"
    plan.write_text("name: x\ncriteria:\n  - {id: a, title: A, gate: {kind: nope}}\n  - {id: b}\n")

    status = main(["report", str(tmp_path), "--plan", str(plan)])

    err = capsys.readouterr().err
    assert status == 2
    assert f"{plan}:3: criteria[0].gate" in err
    assert f"{plan}:4: criteria[1].title: Field required" in err
    assert not (tmp_path / "reports").exists()


@pytest.mark.parametrize("args", [["--format", "pdf"], ["--format", ","]])
def test_cli_report_rejects_unknown_formats(
    repo_root: Path, capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    assert main(["report", str(repo_root), *args]) == 2
    assert "choose from md, html, json" in capsys.readouterr().err


def test_cli_report_without_a_plan(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", str(tmp_path)]) == 2
    assert "no readiness.yaml" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("plan_bytes", "message"),
    [
        (b"name: x\ncriteria: []\n", "the plan has no criteria, so there is nothing to evaluate"),
        (b"name: \xff\xfe\n", "not UTF-8 text (byte 6: invalid start byte)"),
    ],
)
def test_cli_report_refuses_plans_it_cannot_evaluate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], plan_bytes: bytes, message: str
) -> None:
    plan = tmp_path / "plan.yaml"
    plan.write_bytes(plan_bytes)

    status = main(["report", str(tmp_path), "--plan", str(plan), "--out", str(tmp_path / "o")])

    assert status == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "o" / "report.md").exists()


def test_cli_report_checks_where_it_writes_before_running_any_gate(
    repo_root: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    marker = repo_root / "ran.txt"
    plan = tmp_path / "plan.yaml"
    plan.write_text(
        "name: x\ncriteria:\n  - id: a\n    title: A\n    gate:\n      kind: command\n"
        f"      argv: ['{PY}', -c, 'open(\"ran.txt\", \"w\")']\n"
    )

    bad_out = main(["report", str(repo_root), "--plan", str(plan), "--out", str(blocker / "sub")])
    out_error = capsys.readouterr().err
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(blocker / "summary.md"))
    bad_summary = main(["report", str(repo_root), "--plan", str(plan), "--step-summary"])
    summary_error = capsys.readouterr().err

    assert (bad_out, bad_summary) == (2, 2)
    assert f"--out {blocker / 'sub'}: cannot write there" in out_error
    assert f"GITHUB_STEP_SUMMARY {blocker}: cannot write there" in summary_error
    assert not marker.exists()  # no gate ran
