"""The example Workers monorepo: every planted blocker in EXPECTED.md is found, and nothing else."""

from __future__ import annotations

import re
from pathlib import Path

from checks.model import Finding
from checks.registry import rules

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
    findings: list[Finding] = audit_files(EXAMPLE, example_files())

    found = sorted((f.rule, f.path, f.line) for f in findings)

    assert found == expected(), where(findings)


def test_the_excluded_trees_hold_decoys_that_would_be_found() -> None:
    decoys = [
        "node_modules/@acme/legacy-ops/index.js",
        "apps/base/.wrangler/tmp/dev-x7Qk2p/index.js",
    ]
    findings = audit_files(EXAMPLE, [*example_files(), *decoys])

    assert {f.path for f in findings} >= set(decoys)
