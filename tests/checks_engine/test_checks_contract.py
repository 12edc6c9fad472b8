"""The rule contract other rules build on: findings, severities, sources, repositories, globs."""

from __future__ import annotations

import shutil
from pathlib import Path

import git
import pytest
from tree_sitter import Node

from checks.api import audit
from checks.globs import matcher
from checks.model import Finding, Severity
from checks.registry import load_rule, rule_ids, rules
from checks.repository import Repository
from checks.source import SourceFile, walk
from checks_engine.conftest import EXAMPLE, commit_all


def test_severities_order_by_rank_not_alphabet() -> None:
    assert Severity.NOTE < Severity.WARNING < Severity.ERROR
    assert Severity.ERROR > Severity.NOTE
    assert Severity.WARNING >= "warning"
    assert Severity.NOTE <= Severity.ERROR
    assert sorted([Severity.ERROR, Severity.NOTE, Severity.WARNING]) == [
        Severity.NOTE,
        Severity.WARNING,
        Severity.ERROR,
    ]
    assert Severity.ERROR.__lt__(3) is NotImplemented


def test_a_fingerprint_survives_moves_and_reindentation_but_not_other_changes() -> None:
    here = Finding("r", Severity.ERROR, "a.ts", 3, 5, "m", snippet="const x =  env.DB_OPS;")
    moved = Finding("r", Severity.ERROR, "a.ts", 40, 9, "m", snippet="  const x = env.DB_OPS;")
    other = Finding("r", Severity.ERROR, "b.ts", 3, 5, "m", snippet="const x = env.DB_OPS;")

    assert here.fingerprint == moved.fingerprint
    assert here.fingerprint != other.fingerprint
    assert Finding.from_dict(here.to_dict()) == here


def test_source_positions_count_characters_not_bytes() -> None:
    source = SourceFile.from_text("a.ts", "const s = 'héllo'; env.DB_OPS;\n")
    tree = source.tree
    assert tree is not None
    node = next(n for n in walk(tree.root_node) if n.type == "property_identifier")

    assert source.position(node) == (1, 24)
    assert source.node_text(node) == "DB_OPS"
    assert (
        source.finding("r", Severity.NOTE, (1, 2), "m").snippet == "const s = 'héllo'; env.DB_OPS;"
    )
    assert source.line_text(99) == ""


def test_walk_visits_every_node_once() -> None:
    source = SourceFile.from_text("a.py", "def f(x):\n    return [x, (x + 1)]\n")
    tree = source.tree
    assert tree is not None

    def count(node: Node) -> int:
        return 1 + sum(count(child) for child in node.children)

    assert len(list(walk(tree.root_node))) == count(tree.root_node)
    assert SourceFile.from_text("a.json", "{}").tree is None


def test_repository_helpers(tmp_path: Path) -> None:
    (tmp_path / "apps/a").mkdir(parents=True)
    (tmp_path / "apps/a/wrangler.toml").write_text('name = "a"\n', encoding="utf-8")
    (tmp_path / "apps/a/logo.bin").write_bytes(b"\xff\xfe")
    files = ["apps/a/wrangler.toml", "apps/a/logo.bin"]
    repo = Repository(tmp_path, files, files[:1])

    assert repo.matching("wrangler.*") == ["apps/a/wrangler.toml"]
    assert repo.matching("apps/*/*.bin") == ["apps/a/logo.bin"]
    assert repo.exists("apps/a/logo.bin")
    assert not repo.exists("nope")
    assert repo.is_target("apps/a/wrangler.toml")
    assert not repo.is_target("apps/a/logo.bin")
    assert repo.source("apps/a/logo.bin") is None
    assert repo.source("apps/a/wrangler.toml") is repo.source("apps/a/wrangler.toml")
    assert repo.extract("apps/a/wrangler.toml", "k", lambda s: s.name) == "wrangler.toml"
    assert repo.extract("apps/a/logo.bin", "k", lambda s: s.name) is None
    assert repo.facts("db-ops-access") == {}
    found = repo.finding("r", Severity.ERROR, "apps/a/logo.bin", (2, 3), "m")
    assert (found.line, found.column, found.snippet) == (2, 3, "")


@pytest.mark.parametrize(
    ("patterns", "path", "expected"),
    [
        (["orchestrator/**"], "orchestrator/worker/index.ts", True),
        (["orchestrator/**"], "apps/orchestrator/x.ts", False),
        (["node_modules"], "apps/x/node_modules/a/b.js", True),
        (["node_modules"], "apps/x/node_modules_old/a.js", False),
        (["apps/*/worker"], "apps/base/worker/a.ts", True),
        (["apps/*.ts"], "apps/base/a.ts", False),
        (["**/*.test.ts"], "c.test.ts", True),
        (["src/?.ts", "lib/**/x.py"], "lib/a/b/x.py", True),
        (["src/?.ts"], "src/ab.ts", False),
        (["", "  "], "anything", False),
    ],
)
def test_globs(patterns: list[str], path: str, expected: bool) -> None:
    assert matcher(patterns)(path) is expected


def test_the_registry_loads_every_rule_with_its_docs() -> None:
    loaded = rules()

    assert [rule.id for rule in loaded] == rule_ids()
    for rule in loaded:
        assert rule.docs.splitlines()[0].replace("`", "") == rule.title
        assert "## How to fix" in rule.docs
        assert rule.default_options() == rule.options_type()


def test_a_module_that_breaks_the_contract_fails_loudly() -> None:
    with pytest.raises(TypeError, match="lacks ID, TITLE, SEVERITY, Options"):
        load_rule("checks.model")


def test_the_example_in_process_cold_then_warm(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("READINESS_CACHE_DIR", str(tmp_path / "cache"))
    root = tmp_path / "example"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns(".readiness-cache"))
    git.Repo.init(root)
    commit_all(root, "example")

    cold = audit(root)
    warm = audit(root)

    assert len(cold.findings) == 14
    assert warm.findings == cold.findings
    assert warm.summary["analysed"] == 0
