"""Restricted binding used outside its owner

## What
Code or Wrangler config outside the owner paths that touches a restricted binding (by default
`DB_OPS`) directly: property access (`env.DB_OPS`, `this.env.DB_OPS`, `c.env?.DB_OPS`), element
access with a string (`env["DB_OPS"]`), destructuring (`const { DB_OPS } = env`,
`{ DB_OPS: db }`, `{ ["DB_OPS"]: db }`, in parameters too), the binding passed along
(`drizzle(env.DB_OPS)`), Python
workers (`self.env.DB_OPS`, `getattr(env, "DB_OPS")`), and `d1_databases` entries binding it in
`wrangler.toml`, `wrangler.json` or `wrangler.jsonc`.

Comments, strings, longer names (`DB_OPS_BACKUP`), type declarations and the owner paths
(`orchestrator/**`) are never reported.

## Why
Ops data belongs to the orchestrator. Apps that open the database themselves bypass the monitor's
authentication, its audit trail and its schema, and break silently when the schema moves on.

## How to fix
Call the monitor binding instead (`ORCHESTRATOR_OPS_MONITOR` in a Worker, `OpsMonitorClient` in
Python), and remove the app's own `d1_databases` entry for the binding.

## Example
```ts
// flagged
const rows = await env.DB_OPS.prepare("SELECT * FROM ops_issues").all();
// instead
const issues = await env.ORCHESTRATOR_OPS_MONITOR.getOpenIssues();
```

Options: `bindings` (restricted names), `owner_paths` (globs that may use them), `replacement`
and `python_replacement` (named in messages).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from checks.globs import matcher
from checks.model import Finding, Severity
from checks.parsing import LanguageName, grammar_for
from checks.registry import DEFAULT_FILES
from checks.rules._wrangler import WRANGLER_FILES, ConfigError, entries, environments, load
from checks.source import SourceFile

if TYPE_CHECKING:
    from tree_sitter import Node, Query

ID = "db-ops-access"
TITLE = "Restricted binding used outside its owner"
SEVERITY = Severity.ERROR
VERSION = 2
FILES = (*DEFAULT_FILES, *WRANGLER_FILES)


@dataclass(frozen=True)
class Options:
    bindings: tuple[str, ...] = ("DB_OPS",)
    owner_paths: tuple[str, ...] = ("orchestrator/**",)
    replacement: str = "ORCHESTRATOR_OPS_MONITOR"
    python_replacement: str = "OpsMonitorClient"


REMEDIATION = (
    "Reach ops data through the monitor binding ({replacement}) instead of the database binding."
)

_JS_QUERY = """
(member_expression property: [(property_identifier) (private_property_identifier)] @name
  (#any-of? @name {names}))
(subscript_expression index: (string (string_fragment) @name (#any-of? @name {names})))
(subscript_expression index: (template_string) @template)
((shorthand_property_identifier_pattern) @name (#any-of? @name {names}))
(pair_pattern key: (property_identifier) @name (#any-of? @name {names}))
(pair_pattern key: (string (string_fragment) @name (#any-of? @name {names})))
(pair_pattern key: (computed_property_name
  (string (string_fragment) @name (#any-of? @name {names}))))
(pair_pattern key: (computed_property_name (template_string) @template))
"""

_PY_QUERY = """
(attribute attribute: (identifier) @name (#any-of? @name {names}))
(call function: (identifier) @function (#eq? @function "getattr")
  arguments: (argument_list . (_) . (string) @string))
(subscript subscript: (string) @string)
"""


@lru_cache(maxsize=16)
def _query(language: LanguageName, bindings: tuple[str, ...]) -> Query:
    from tree_sitter import Query

    names = " ".join('"' + b.replace("\\", "\\\\").replace('"', '\\"') + '"' for b in bindings)
    source = _PY_QUERY if language == "python" else _JS_QUERY
    return Query(grammar_for(language), source.format(names=names))


def _literal(text: str) -> str:
    """The value of a simple string literal ('x', "x", `x`, r'x'), or '' for anything else."""
    match = re.fullmatch(r"[rRuUbBfF]{0,2}(['\"`])(.*)\1", text, re.DOTALL)
    if match is None:
        return ""
    value = match.group(2)
    interpolated = "${" in value or ("{" in value and "f" in text[:2].lower())
    return "" if interpolated else value


def _code_uses(file: SourceFile, options: Options) -> Iterator[Node]:
    from tree_sitter import QueryCursor

    tree = file.tree
    if tree is None or file.language is None:
        return
    captures = QueryCursor(_query(file.language, options.bindings)).captures(tree.root_node)
    yield from captures.get("name", ())
    for node in (*captures.get("template", ()), *captures.get("string", ())):
        if _literal(file.node_text(node)) in options.bindings:
            yield node


def _message(name: str, file: SourceFile, options: Options) -> tuple[str, str]:
    replacement = options.python_replacement if file.language == "python" else options.replacement
    owners = ", ".join(options.owner_paths) or "its owner"
    message = f"{name} used directly outside {owners}; use {replacement} instead"
    return message, REMEDIATION.format(replacement=replacement)


def _wrangler_bound(config: dict[str, Any], bindings: tuple[str, ...]) -> list[str]:
    """Restricted names bound by `d1_databases`, at the top level or in any `env.<name>`;
    tables and entries of any other shape are skipped."""
    return [
        str(entry["binding"])
        for table in environments(config)
        for entry in entries(table, "d1_databases")
        if isinstance(entry.get("binding"), str) and entry["binding"] in bindings
    ]


def _wrangler_findings(file: SourceFile, options: Options) -> Iterator[Finding]:
    try:
        config = load(file.name, file.text)
    except ConfigError:
        return  # an unreadable config is another rule's business, not a binding use
    bound = _wrangler_bound(config, options.bindings)
    if not bound:
        return
    places = _binding_lines(file, set(bound))
    seen: dict[str, int] = {}
    for name in bound:
        index = seen[name] = seen.get(name, -1) + 1
        candidates = places.get(name) or [(1, 1)]
        at = candidates[min(index, len(candidates) - 1)]
        message = (
            f"d1_databases binds {name} outside {', '.join(options.owner_paths)};"
            f" bind the {options.replacement} service instead"
        )
        yield file.finding(ID, SEVERITY, at, message, REMEDIATION.format(**vars(options)))


def _binding_lines(file: SourceFile, names: set[str]) -> dict[str, list[tuple[int, int]]]:
    """Where each `binding = "NAME"` / `"binding": "NAME"` sits, skipping comment lines."""
    found: dict[str, list[tuple[int, int]]] = {}
    pattern = re.compile(r"""["']?binding["']?\s*[:=]\s*["']([^"']+)["']""")
    for number, line in enumerate(file.lines, start=1):
        stripped = line.lstrip()
        if stripped.startswith(("#", "//", "/*", "*")):
            continue
        for match in pattern.finditer(line):
            if match.group(1) in names:
                found.setdefault(match.group(1), []).append((number, match.start(1) + 1))
    return found


def check(file: SourceFile, options: Options) -> list[Finding]:
    if not file.mentions(options.bindings) or matcher(options.owner_paths)(file.path):
        return []
    if file.name in WRANGLER_FILES:
        return list(_wrangler_findings(file, options))
    findings = []
    for node in _code_uses(file, options):
        name = file.node_text(node)
        message, remediation = _message(_literal(name) or name, file, options)
        findings.append(file.finding(ID, SEVERITY, node, message, remediation))
    return findings
