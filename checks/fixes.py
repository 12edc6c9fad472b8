"""`--fix`: hand each finding to its rule's `fix` hook, if the rule has one."""

from __future__ import annotations

from pathlib import Path

from checks.api import AuditResult
from checks.config import load
from checks.files import discover
from checks.repository import Repository


def apply_fixes(result: AuditResult, config_file: Path | None = None) -> list[str]:
    """Fix what can be fixed safely; returns the paths that changed."""
    fixable = {rule.id: rule for rule in result.rules if rule.fix is not None}
    wanted = [f for f in result.findings if f.rule in fixable]
    if not wanted:
        return []
    config = load(result.root, config_file)
    files = discover(result.root, config.excludes)
    repo = Repository(result.root, files, files)
    changed: list[str] = []
    for finding in wanted:
        rule = fixable[finding.rule]
        fix = rule.fix
        if fix is not None and fix(repo, finding, config.options_for(rule)):
            changed.append(finding.path)
    return sorted(set(changed))
