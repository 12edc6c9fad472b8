"""The configuration that silences a known false-alarm class, named next to the finding.

An adopter's first run reports what this toolkit's defaults assume (the ops database is owned by
`orchestrator/`, every import is an npm package); the fix is one key of configuration, which the
hint spells out with the finding's own path or package filled in.
"""

from __future__ import annotations

import re

from checks.model import Finding

_QUOTED_PACKAGE = re.compile(r"'([^']+)' is imported but not declared")


def _top_directory(path: str) -> str:
    head, _, rest = path.partition("/")
    return f"{head}/**" if rest else path


def hint(finding: Finding) -> str:
    """One line naming the setting that would silence this class of finding, or "" when the
    rule has none."""
    if finding.rule == "db-ops-access":
        owner = _top_directory(finding.path)
        return (
            f'hint: set checks.rules.db-ops-access.owner_paths to ["{owner}"] if {owner}'
            " owns the ops database (or bindings to the names your workers use)"
        )
    if finding.rule == "missing-dependency":
        match = _QUOTED_PACKAGE.search(finding.message)
        package = match.group(1) if match else "PACKAGE"
        return (
            f'hint: set checks.rules.missing-dependency.ignore to ["{package}"] if it is'
            " resolved by a path alias, a bundler or a vendored copy"
        )
    if finding.rule == "syntax-error":
        return (
            "hint: checks.rules.syntax-error.typescript names a local TypeScript when the"
            " second opinion disagrees with your compiler"
        )
    return ""


def rule_hint(findings: list[Finding]) -> str:
    """The hint of a rule's first finding (the per-rule summary shows one per rule)."""
    return hint(findings[0]) if findings else ""
