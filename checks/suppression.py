"""Inline suppressions: a `readiness: ignore[rule-id] reason` comment on a finding's line or, as
a comment on a line of its own, on the line above it. The reason is required, and a suppression
that matches nothing (or names an unknown rule) is itself reported, so stale ignores do not pile
up and hide the next real problem.

Each finding is claimed by the directive on its own line first; a directive at the end of a line
of code covers that line only, so two consecutive lines each with their own trailing ignore never
steal each other's findings. The space after `readiness:` is optional (`readiness:ignore[x]` is
always honoured, like `readiness: ignore[x]`).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence

from checks.model import Directive, Finding, Severity
from checks.registry import rule_ids
from checks.source import SourceFile

UNUSED_IGNORE = "unused-ignore"
IGNORE_WITHOUT_REASON = "ignore-without-reason"
# Text every suppression contains (a cheap prefilter before looking for comments).
MARKER = "readiness:"

_REMEDIATION = "Remove or fix the suppression comment."
# The findings the engine itself reports about suppressions, with `--explain` documentation.
ENGINE_RULES: dict[str, tuple[str, str]] = {
    UNUSED_IGNORE: (
        "A suppression comment that matches no finding",
        """A suppression comment that matches no finding

## What
A `readiness: ignore[rule-id] reason` comment that suppressed nothing in this run: no finding of
`rule-id` on its line (or, for a comment on a line of its own, on the next line), or a rule id that
does not exist (a typo such as `db-ops-acess`). Only rules that ran are judged, so `--select` does
not make other ignores look stale; an unknown id is always reported.

## Why
An ignore that outlives its finding hides the next real problem on that line, and a misspelt one
suppresses nothing while looking like it does.

## How to fix
Delete the comment, or fix the rule id (`readiness check --list-rules` lists them), or move it to
the finding's line or the line above.

## Example
```ts
// readiness: ignore[db-ops-acess] migration script   <- unknown rule: reported
const db = env.DB_OPS; // readiness: ignore[db-ops-access] migration script, removed in Q3
```
""",
    ),
    IGNORE_WITHOUT_REASON: (
        "A suppression comment without a reason",
        """A suppression comment without a reason

## What
A `readiness: ignore[rule-id]` comment with nothing after the `]`. It does not suppress anything.

## Why
A suppression is a decision someone has to revisit; without the reason nobody can tell whether it
still holds.

## How to fix
Say why after the `]`: `// readiness: ignore[db-ops-access] read-only health probe, see OPS-12`.

## Example
```ts
const db = env.DB_OPS; // readiness: ignore[db-ops-access]   <- reported, and DB_OPS is too
```
""",
    ),
}
_DIRECTIVE = re.compile(r"readiness:\s*ignore\[([^\]]*)\]([^\n]*)")
# Files without a grammar whose comments may carry a suppression (the rules read these configs).
_CONFIG_SUFFIXES = (".toml", ".json", ".jsonc", ".json5", ".yaml", ".yml")
_COMMENT_STARTS = ("#", "//", "/*", "*", "<!--", "--")
_COMMENT_MARKS = "#/*<!- \t"


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
    if MARKER not in file.text:
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
            own_line = not before.strip(_COMMENT_MARKS)
            found.append(
                Directive(number, match.start() + 1, rules, reason, line.strip(), own_line)
            )
    return found


def _claiming(directives: Sequence[Directive], finding: Finding) -> Directive | None:
    """The directive that suppresses `finding`: one on its own line first, else the comment
    line above it."""
    same = [d for d in directives if d.line == finding.line and d.covers(finding)]
    if same:
        return same[0]
    return next((d for d in directives if d.covers(finding)), None)


def _unknown_rule_message(rule: str, known: Sequence[str]) -> str:
    close = difflib.get_close_matches(rule, known, n=1)
    hint = f"did you mean {close[0]}?" if close else f"known: {', '.join(known)}"
    return f"ignore[{rule}] names no rule ({hint}); it suppresses nothing"


def apply(
    findings: Iterable[Finding],
    directives_by_path: dict[str, list[Directive]],
    ran: set[str],
) -> tuple[list[Finding], int]:
    """Drop suppressed findings; add findings for suppressions without a reason, for those that
    name an unknown rule, and for those that matched nothing (only for rules that ran, so
    `--select` does not make them stale)."""
    known = rule_ids()
    kept: list[Finding] = []
    used: set[tuple[str, int, str]] = set()
    suppressed = 0
    for finding in findings:
        match = _claiming(directives_by_path.get(finding.path, ()), finding)
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
            where = "this line or the next" if directive.own_line else "this line"
            for rule in directive.rules:
                if rule not in known and rule not in ENGINE_RULES:
                    kept.append(
                        _engine_finding(UNUSED_IGNORE, *at, _unknown_rule_message(rule, known))
                    )
                elif rule in ran and (path, directive.line, rule) not in used:
                    message = f"ignore[{rule}] matches no finding on {where}"
                    kept.append(_engine_finding(UNUSED_IGNORE, *at, message))
    return kept, suppressed


def _engine_finding(
    rule: str, path: str, line: int, column: int, snippet: str, message: str
) -> Finding:
    return Finding(rule, Severity.WARNING, path, line, column, message, _REMEDIATION, snippet)
