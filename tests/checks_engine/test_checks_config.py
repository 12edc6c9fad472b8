"""Configuration in pyproject.toml or readiness.yaml: every key checked; errors name the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from checks.api import audit
from checks.cli_support import UserError
from checks.model import Severity
from checks_engine.conftest import MakeRepo

USE = "env.DB_OPS;\n"


def test_pyproject_selects_ignores_excludes_and_sets_the_threshold(make_repo: MakeRepo) -> None:
    root = make_repo(
        {
            "pyproject.toml": (
                "[tool.readiness.checks]\n"
                'select = ["db-ops-access", "syntax-error"]\n'
                'ignore = [{rule = "syntax-error", reason = "generated code"}]\n'
                'extend-exclude = ["legacy/**"]\n'
                'fail-on = "error"\n'
            ),
            "apps/a/index.ts": USE + "const = ;\n",
            "legacy/old.ts": USE,
        }
    )

    result = audit(root)

    assert result.summary["rules"] == ["db-ops-access"]
    assert [(f.rule, f.path) for f in result.findings] == [("db-ops-access", "apps/a/index.ts")]
    assert result.fail_on is Severity.ERROR
    assert result.failed


def test_readiness_yaml_checks_section_sits_beside_a_plan(make_repo: MakeRepo) -> None:
    root = make_repo(
        {
            "readiness.yaml": (
                "version: 1\ncriteria: []\nplan: {phases: []}\n"
                "checks:\n  exclude: [vendor]\n  fail-on: note\n"
                "  rules:\n    db-ops-access:\n      owner-paths: ['ops/**']\n"
            ),
            "ops/index.ts": USE,
            "vendor/x.ts": USE,
            "node_modules/y.ts": USE,
        }
    )

    result = audit(root, select=["db-ops-access"])

    assert [f.path for f in result.findings] == ["node_modules/y.ts"]
    assert result.fail_on is Severity.NOTE


def test_an_explicit_config_file_wins(make_repo: MakeRepo, tmp_path: Path) -> None:
    root = make_repo({"apps/a/index.ts": USE, "readiness.yaml": "checks: {fail-on: error}\n"})
    other = tmp_path / "other.toml"
    other.write_text('[tool.readiness.checks]\nselect = ["syntax-error"]\n', encoding="utf-8")

    result = audit(root, config_file=other)

    assert result.summary["rules"] == ["syntax-error"]
    assert result.findings == []


@pytest.mark.parametrize(
    ("yaml", "message"),
    [
        ("checks: {colour: red}", r"readiness.yaml: colour: unknown key"),
        ("checks: {select: [nope]}", r"select: unknown rule 'nope'"),
        ("checks: {select: db-ops-access}", r"select: expected a list of strings"),
        ("checks: {ignore: [{rule: syntax-error}]}", r"ignore\[0\]: a reason is required"),
        ("checks: {ignore: {syntax-error: x}}", r"ignore: expected a list"),
        ("checks: {ignore: [{rule: x, reason: y, z: 1}]}", r"ignore\[0\]: expected \{rule"),
        ("checks: {fail-on: fatal}", r"fail-on: expected note, warning or error"),
        ("checks: {rules: [db-ops-access]}", r"rules: expected a table of rule ids"),
        ("checks: {rules: {db-ops-access: 1}}", r"rules.db-ops-access: expected a table"),
        ("checks: {rules: {db-ops-access: {owners: []}}}", r"db-ops-access.owners: unknown option"),
        ("checks: {rules: {db-ops-access: {bindings: X}}}", r"bindings: expected a list"),
        ("checks: {rules: {db-ops-access: {bindings: [1]}}}", r"bindings: expected str, got int"),
        ("checks: {rules: {db-ops-access: {replacement: 3}}}", r"expected str, got int"),
        ("checks: [1]", r"checks: expected a table"),
        ("checks: {select: [\n", r"readiness.yaml:3: invalid YAML"),
    ],
)
def test_config_errors_name_the_file_and_the_key(
    make_repo: MakeRepo, yaml: str, message: str
) -> None:
    root = make_repo({"readiness.yaml": yaml + "\n", "apps/a/index.ts": USE})

    with pytest.raises(UserError, match=message):
        audit(root)


def test_invalid_toml_and_missing_config_files_are_errors(
    make_repo: MakeRepo, tmp_path: Path
) -> None:
    root = make_repo({"pyproject.toml": "[tool.readiness.checks\n", "apps/a/index.ts": USE})

    with pytest.raises(UserError, match=r"pyproject.toml: invalid TOML"):
        audit(root)
    with pytest.raises(UserError, match=r"absent.yaml: config file not found"):
        audit(root, config_file=tmp_path / "absent.yaml")


def test_a_pyproject_without_our_section_means_defaults(make_repo: MakeRepo) -> None:
    root = make_repo({"pyproject.toml": "[project]\nname = 'x'\n", "apps/a/index.ts": USE})

    result = audit(root, select=["db-ops-access"])

    assert result.fail_on is Severity.WARNING
    assert len(result.findings) == 1


def test_tool_readiness_is_the_config_table_and_its_plan_is_not_ours(make_repo: MakeRepo) -> None:
    root = make_repo(
        {
            "pyproject.toml": (
                "[tool.readiness]\n"
                'select = ["db-ops-access"]\n'
                'fail-on = "error"\n'
                '[tool.readiness.rules.db-ops-access]\nowner-paths = ["ops/**"]\n'
                '[tool.readiness.plan]\nname = "a plan"\ncriteria = []\n'
            ),
            "ops/index.ts": USE,
            "apps/a/index.ts": USE + "const = ;\n",
        }
    )

    result = audit(root)

    assert result.summary["rules"] == ["db-ops-access"]
    assert [f.path for f in result.findings] == ["apps/a/index.ts"]
    assert result.fail_on is Severity.ERROR


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        (
            '[tool.readiness]\nselect = ["nope"]\n',
            r"pyproject.toml \[tool.readiness\]: select: unk",
        ),
        ("[tool.readiness]\ncolour = 1\n", r"pyproject.toml \[tool.readiness\]: colour: unknown"),
        ("[tool.readiness]\nselect = []\n", r"select is empty: no rule would run"),
        ("[tool.readiness.checks]\ncolour = 1\n", r"\[tool.readiness.checks\]: colour: unknown"),
        ("[tool.readiness]\nchecks = 1\n", r"tool.readiness.checks: expected a table"),
        ("[tool]\nreadiness = 1\n", r"pyproject.toml: tool.readiness: expected a table"),
        (
            '[tool.readiness]\nfail-on = "error"\n[tool.readiness.checks]\nselect = []\n',
            r"both \[tool.readiness\] \(fail-on\) and \[tool.readiness.checks\]",
        ),
    ],
)
def test_tool_readiness_errors_name_the_key_and_the_file(
    make_repo: MakeRepo, toml: str, message: str
) -> None:
    root = make_repo({"pyproject.toml": toml, "apps/a/index.ts": USE})

    with pytest.raises(UserError, match=message):
        audit(root)


def test_a_checks_key_at_the_top_of_readiness_yaml_is_an_error(make_repo: MakeRepo) -> None:
    root = make_repo(
        {"readiness.yaml": "name: plan\nselect: [db-ops-access]\n", "apps/a/index.ts": USE}
    )

    with pytest.raises(UserError, match=r"readiness.yaml: select: a checks setting: put it under"):
        audit(root)


def test_a_plan_alone_in_readiness_yaml_means_default_checks(make_repo: MakeRepo) -> None:
    root = make_repo(
        {
            "readiness.yaml": "version: 1\nname: p\ndescription: d\nphases: []\ncriteria: []\n"
            "execution_order: []\nunplaced: []\n",
            "apps/a/index.ts": USE,
        }
    )

    assert len(audit(root, select=["db-ops-access"]).findings) == 1


def test_ignoring_every_selected_rule_is_an_error(make_repo: MakeRepo) -> None:
    root = make_repo(
        {
            "readiness.yaml": (
                "checks:\n  select: [syntax-error]\n"
                "  ignore: [{rule: syntax-error, reason: generated}]\n"
            ),
            "apps/a/index.ts": USE,
        }
    )

    with pytest.raises(UserError, match=r"no rule would run: every selected rule is ignored in"):
        audit(root)


def test_a_config_that_is_not_utf8_is_an_error_naming_its_line(
    make_repo: MakeRepo, tmp_path: Path
) -> None:
    root = make_repo({"apps/a/index.ts": USE})
    bad = tmp_path / "c.yaml"
    bad.write_bytes(b"checks:\n  fail-on: \xff\n")

    with pytest.raises(UserError, match=r"c.yaml:2: not UTF-8 text \(byte 19\)"):
        audit(root, config_file=bad)
