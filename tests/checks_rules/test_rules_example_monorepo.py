"""The example Workers monorepo: every planted blocker in EXPECTED.md is found, and nothing else."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from checks.api import audit
from checks.cli import main
from checks.registry import get_rule, rules
from checks.repository import Repository

from .conftest import audit_files, where

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "workers-monorepo"
EXCLUDED = {"node_modules", ".wrangler"}


def expected() -> list[tuple[str, str, int]]:
    rows = re.findall(
        r"^\| ([a-z-]+) \| (\S+) \| (\d+) \|", (EXAMPLE / "EXPECTED.md").read_text(), re.M
    )
    return sorted((rule, path, int(line)) for rule, path, line in rows)


def example_files() -> list[str]:
    return sorted(
        path.relative_to(EXAMPLE).as_posix()
        for path in EXAMPLE.rglob("*")
        if path.is_file() and not EXCLUDED & set(path.relative_to(EXAMPLE).parts)
    )


def test_expected_md_lists_a_finding_for_every_rule() -> None:
    assert {rule for rule, _path, _line in expected()} == {rule.id for rule in rules()}


def test_the_example_yields_exactly_the_planted_findings() -> None:
    result = audit(EXAMPLE, use_cache=False)

    found = sorted((f.rule, f.path, f.line) for f in result.findings)

    assert found == expected(), where(result.findings)


def test_readiness_check_reports_them_in_json_and_fails(tmp_path: Path) -> None:
    report = tmp_path / "findings.json"

    status = main([str(EXAMPLE), "--no-cache", "--format", "json", "--output", str(report)])

    findings = json.loads(report.read_text())["findings"]
    assert status == 1
    assert sorted((f["rule"], f["path"], f["line"]) for f in findings) == expected()


def test_readiness_check_fix_adds_jsx_to_the_app_tsconfig(tmp_path: Path) -> None:
    copy = tmp_path / "monorepo"
    shutil.copytree(EXAMPLE, copy)
    report = tmp_path / "after.json"

    main([str(copy), "--no-cache", "--fix", "--format", "json", "--output", str(report)])

    rules_left = {f["rule"] for f in json.loads(report.read_text())["findings"]}
    assert "tsconfig-jsx" not in rules_left
    assert '"jsx": "react-jsx",' in (copy / "orchestrator" / "tsconfig.app.json").read_text()
    assert "// The ops dashboard" in (copy / "orchestrator" / "tsconfig.app.json").read_text()


def test_the_excluded_trees_hold_decoys_that_would_be_found() -> None:
    decoys = [
        "node_modules/@acme/legacy-ops/index.js",
        "apps/base/.wrangler/tmp/dev-x7Qk2p/index.js",
    ]
    findings = audit_files(EXAMPLE, [*example_files(), *decoys])

    assert {f.path for f in findings} >= set(decoys)


def test_the_plans_phase_one_fixes_clear_the_orchestrator(tmp_path: Path) -> None:
    copy = tmp_path / "monorepo"
    shutil.copytree(EXAMPLE, copy)
    orchestrator = copy / "orchestrator"
    manifest = json.loads((orchestrator / "package.json").read_text())
    manifest["devDependencies"].update(
        {
            "rollup": "^4.27.0",
            "@rollup/plugin-node-resolve": "^15.3.0",
            "@rollup/plugin-commonjs": "^28.0.1",
        }
    )
    (orchestrator / "package.json").write_text(json.dumps(manifest, indent=2))
    index = orchestrator / "worker" / "index.ts"
    index.write_text(
        index.read_text().replace("    if\n", "    if (event.cron === '0 2 * * *') {\n", 1)
    )
    [jsx] = [f for f in audit_files(copy, example_files()) if f.rule == "tsconfig-jsx"]
    rule = get_rule("tsconfig-jsx")
    assert rule is not None
    assert rule.fix is not None
    assert rule.fix(Repository(copy, example_files(), example_files()), jsx, rule.default_options())

    remaining = audit_files(copy, example_files())

    assert not [f for f in remaining if f.path.startswith("orchestrator/")]
    assert {f.path.split("/")[0] for f in remaining} == {"apps"}
