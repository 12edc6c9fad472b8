"""Inline suppressions: a `readiness: ignore[rule-id] reason` comment on a finding's line or the
line above it. The reason is required, and a suppression that matches nothing is itself
reported, so stale ignores do not pile up and hide the next real problem.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from checks.model import Finding, Severity
from checks.source import SourceFile

UNUSED_IGNORE = "unused-ignore"
IGNORE_WITHOUT_REASON = "ignore-without-reason"
MARKER = "readiness: ignore["
_DIRECTIVE = re.compile(r"readiness:\s*ignore\[([^\]]*)\]([^\n]*)")
# Files without a grammar whose comments may carry a suppression (the rules read these configs).
_CONFIG_SUFFIXES = (".toml", ".json", ".jsonc", ".json5", ".yaml", ".yml")
_COMMENT_STARTS = ("#", "//", "/*", "*", "<!--", "--")


@dataclass(frozen=True)
class Directive:
    line: int
    column: int
    rules: tuple[str, ...]
    reason: str
    snippet: str

    def to_list(self) -> list[Any]:
        return [self.line, self.column, list(self.rules), self.reason, self.snippet]

    @classmethod
    def from_list(cls, data: Sequence[Any]) -> Directive:
        return cls(int(data[0]), int(data[1]), tuple(data[2]), str(data[3]), str(data[4]))


def _comment_spans(file: SourceFile) -> list[tuple[int, int]] | None:
    """(first line, last line) of every comment, from the syntax tree; None without a grammar."""
    tree = file.tree
    if tree is None or file.language is None:
        return None
    from tree_sitter import Query, QueryCursor

    from checks.parsing import grammar_for

    query = Query(grammar_for(file.language), "(comment) @comment")
    nodes = QueryCursor(query).captures(tree.root_node).get("comment", [])
    return [(node.start_point[0] + 1, node.end_point[0] + 1) for node in nodes]


def directives(file: SourceFile) -> list[Directive]:
    """The suppression comments of a file (parsed only when the marker text occurs at all)."""
    if "readiness:" not in file.text:
        return []
    spans = _comment_spans(file)
    if spans is None and not file.name.endswith(_CONFIG_SUFFIXES):
        return []  # prose (a README explaining suppressions) suppresses nothing
    found = []
    for number, line in enumerate(file.lines, start=1):
        for match in _DIRECTIVE.finditer(line):
            before = line[: match.start()]
            if spans is not None:
                in_comment = any(first <= number <= last for first, last in spans)
            else:
                in_comment = any(
                    mark in before for mark in ("#", "//")
                ) or before.lstrip().startswith(_COMMENT_STARTS)
            if not in_comment:
                continue
            rules = tuple(r.strip() for r in match.group(1).split(",") if r.strip())
            reason = match.group(2).strip().removesuffix("*/").removesuffix("-->").strip()
            found.append(Directive(number, match.start() + 1, rules, reason, line.strip()))
    return found


def apply(
    findings: Iterable[Finding],
    directives_by_path: dict[str, list[Directive]],
    ran: set[str],
) -> tuple[list[Finding], int]:
    """Drop suppressed findings; add findings for suppressions without a reason and for those
    that matched nothing (only for rules that ran, so `--select` does not make them stale)."""
    kept: list[Finding] = []
    used: set[tuple[str, int, str]] = set()
    suppressed = 0
    for finding in findings:
        match = None
        for directive in directives_by_path.get(finding.path, ()):
            close = directive.line in (finding.line, finding.line - 1)
            if close and directive.reason and finding.rule in directive.rules:
                match = directive
                break
        if match is None:
            kept.append(finding)
        else:
            used.add((finding.path, match.line, finding.rule))
            suppressed += 1
    for path, found in directives_by_path.items():
        for directive in found:
            at = (path, directive.line, directive.column, directive.snippet)
            if not directive.reason:
                kept.append(
                    _engine_finding(
                        IGNORE_WITHOUT_REASON,
                        *at,
                        "suppression without a reason; say why after the ]",
                    )
                )
                continue
            for rule in directive.rules:
                if rule in ran and (path, directive.line, rule) not in used:
                    message = f"ignore[{rule}] matches no finding on this line or the next"
                    kept.append(_engine_finding(UNUSED_IGNORE, *at, message))
    return kept, suppressed


def _engine_finding(
    rule: str, path: str, line: int, column: int, snippet: str, message: str
) -> Finding:
    return Finding(
        rule,
        Severity.WARNING,
        path,
        line,
        column,
        message,
        "Remove or fix the suppression comment.",
        snippet,
    )
