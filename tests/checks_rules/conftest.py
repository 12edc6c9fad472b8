"""Fixtures for the rule tests: real git repositories in tmp_path, audited by the real rules."""

from __future__ import annotations

import fnmatch
import json
import shutil
from collections.abc import Callable
from dataclasses import asdict, is_dataclass
from pathlib import Path

import git
import pytest
import yaml

from checks.api import audit
from checks.model import Finding
from checks.registry import Rule, rules
from checks.repository import Repository
from checks.source import SourceFile

MakeRepo = Callable[[dict[str, str]], Path]


@pytest.fixture
def make_repo(tmp_path: Path) -> MakeRepo:
    """Write files into a fresh git repository, commit them, and return its root."""

    def make(files: dict[str, str]) -> Path:
        root = tmp_path / "repo"
        root.mkdir(exist_ok=True)
        for relative, text in files.items():
            path = root / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        repo = git.Repo.init(root)
        repo.git.add(all=True)
        repo.git.commit("-m", "fixture", "--no-gpg-sign", author="Test <test@example.com>")
        return root

    return make


def _matches(rule: Rule, path: str) -> bool:
    name = path.rsplit("/", 1)[-1]
    return any(fnmatch.fnmatchcase(path if "/" in p else name, p) for p in rule.files)


def tracked_files(root: Path) -> list[str]:
    return sorted(git.Repo(root).git.ls_files().splitlines())


def audit_rule(root: Path, rule_id: str, options: object | None = None) -> list[Finding]:
    """Audit a repository with one rule through the engine (`checks.api.audit`); non-default
    options go into the repository's readiness.yaml, as a user would write them."""
    if options is not None:
        assert is_dataclass(options)
        assert not isinstance(options, type)
        settings = {"checks": {"rules": {rule_id: json.loads(json.dumps(asdict(options)))}}}
        (root / "readiness.yaml").write_text(yaml.safe_dump(settings))
    return audit(root, select=[rule_id], use_cache=False).findings


def audit_files(root: Path, files: list[str]) -> list[Finding]:
    """Every registered rule, with default options, over the given files."""
    found = [f for rule in rules() for f in run_rule(rule, root, files, None)]
    return sorted(found, key=Finding.sort_key)


def run_rule(rule: Rule, root: Path, files: list[str], options: object | None) -> list[Finding]:
    """One rule as the engine runs it: per-file `check` on matching files that pass the
    prefilter, or `extract` on matching files then `check_repo` for repo rules."""
    chosen = options if options is not None else rule.default_options()
    sources: dict[str, SourceFile] = {}
    for path in files:
        data = (root / path).read_bytes()
        sources[path] = SourceFile(path, root / path, data, data.decode("utf-8"))
    targets = [path for path in files if _matches(rule, path)]
    if rule.per_file:
        targets = [p for p in targets if not rule.prefilter or sources[p].mentions(rule.prefilter)]
        found = [f for path in targets for f in rule.check(sources[path], chosen)]
    else:
        facts: dict[str, object] = {}
        if rule.extract is not None:
            for path in targets:
                fact = rule.extract(sources[path], chosen)
                if fact is not None:
                    facts[path] = fact
        repository = Repository(root, files, files, facts={rule.id: facts}, sources=sources)
        found = list(rule.check_repo(repository, chosen))
    return sorted(found, key=Finding.sort_key)


def where(findings: list[Finding]) -> list[tuple[str, int]]:
    return [(finding.path, finding.line) for finding in findings]


needs_node = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
