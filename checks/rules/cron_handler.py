"""Cron triggers and the scheduled handler disagree

## What
A Worker whose Wrangler `triggers.crons` (in `wrangler.toml`, `wrangler.json` or
`wrangler.jsonc`, top level and per environment) and its `scheduled` handler do not match:

- a configured cron that no branch of the handler handles (reported at the config line), when the
  handler dispatches on `event.cron` / `controller.cron` (`===` comparisons, `switch` cases, a
  lookup table `JOBS[event.cron]`, or in a Python worker `==` and `match`), in the entry module or
  a module it imports relatively; a final `else`, a `default:` or a `case _:` handles every other
  cron, so then no configured cron lacks a branch;
- a branch comparing a cron that no trigger fires (reported at the handler);
- crons configured while the module's default export has no `scheduled` handler: a named
  `export const scheduled = ...` is never called by the Workers runtime, and a default-exported
  class (`class extends WorkerEntrypoint<Env>`) must define `scheduled` itself;
- an invalid cron expression (checked with cronsim).

## Why
A cron that fires into a handler with no branch for it, or into no handler at all, fails
silently: Wrangler deploys, the trigger runs on time, and nothing happens. A scheduled scan that
never starts looks exactly like a scan that found nothing.

## How to fix
Make the two lists equal: add the missing branch (or remove the unused trigger), fix typos on
either side, and define `scheduled` on the default export.

## Example
```toml
[triggers]
crons = ["0 2 * * *", "0 */4 * * *"]   # flagged: "0 2 * * *" has no branch
```
```ts
export default {
  async scheduled(event, env, ctx) {
    if (event.cron === '0 */4 * * *') ctx.waitUntil(runScan(env, 'incremental'));
  },
};
```

Options: none.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from cronsim import CronSim, CronSimError

from checks.model import Finding, Severity
from checks.registry import DEFAULT_FILES
from checks.repository import Repository
from checks.rules._wrangler import (
    WRANGLER_FILES,
    ConfigError,
    Located,
    cron_triggers,
    crons_key_line,
    load,
)
from checks.source import SourceFile, walk

if TYPE_CHECKING:
    from tree_sitter import Node

ID = "cron-handler"
TITLE = "Cron triggers and the scheduled handler disagree"
SEVERITY = Severity.ERROR
VERSION = 5
FILES = (*WRANGLER_FILES, *DEFAULT_FILES)
FACTS_KEY = f"{ID}/handler/{VERSION}"

REMEDIATION = (
    "Make triggers.crons and the crons the scheduled handler compares equal, and define "
    "`scheduled` on the default export."
)
_EQUALITY = {"===", "==", "!==", "!="}
_WRAPPERS = {"satisfies_expression", "as_expression", "parenthesized_expression"}


@dataclass(frozen=True)
class Options:
    pass


def check_repo(repo: Repository, options: Options) -> Iterator[Finding]:
    for config_path in repo.matching(*WRANGLER_FILES):
        source = repo.source(config_path)
        if source is None:
            continue
        try:
            config = load(config_path, source.text)
        except ConfigError:
            continue  # an unreadable config is reported by the tools that read it
        yield from _check_worker(repo, config_path, config, source.text)


def _check_worker(
    repo: Repository, config_path: str, config: dict[str, Any], text: str
) -> Iterator[Finding]:
    triggers = cron_triggers(config, text)
    valid: list[Located] = []
    for cron in triggers:
        problem = invalid_reason(cron.value)
        if problem is None:
            valid.append(cron)
        else:
            yield repo.finding(
                ID,
                SEVERITY,
                config_path,
                (cron.line, cron.column),
                f"invalid cron expression '{cron.value}': {problem}",
                REMEDIATION,
            )
    main = config.get("main")
    if not triggers or not isinstance(main, str) or posixpath.isabs(main):
        return
    handler_path = posixpath.normpath(posixpath.join(posixpath.dirname(config_path), main))
    if handler_path.split("/")[0] == ".." or not (repo.root / handler_path).is_file():
        return  # a handler outside the tree is not ours to read
    facts = repo.extract(handler_path, FACTS_KEY, handler_facts)
    if not isinstance(facts, dict):
        return
    if facts["has_scheduled"] is False:
        crons = ", ".join(f"'{cron.value}'" for cron in triggers)
        named = facts["named_scheduled"]
        if named:
            message = (
                f"`scheduled` is exported by name, but the Workers runtime only calls the default "
                f"export's `scheduled`: the crons in {config_path} ({crons}) never run"
            )
            at = (int(named[0]), int(named[1]))
            yield repo.finding(ID, SEVERITY, handler_path, at, message, REMEDIATION)
        else:
            message = f"crons {crons} are configured but {handler_path} has no `scheduled` handler"
            yield repo.finding(
                ID, SEVERITY, config_path, crons_key_line(text), message, REMEDIATION
            )
        return
    compared, catch_all = _compared_with_imports(repo, handler_path, facts)
    if not compared:
        return  # one handler for every cron: nothing to match
    branches = {cron for cron, _path, _line, _column in compared}
    configured = {cron.value for cron in triggers}
    for cron in valid:
        if cron.value not in branches and not catch_all:
            yield repo.finding(
                ID,
                SEVERITY,
                config_path,
                (cron.line, cron.column),
                f"cron '{cron.value}' has no branch in the scheduled handler ({handler_path}): "
                "it fires and does nothing",
                REMEDIATION,
            )
    reported: set[str] = set()
    for cron_text, path, line, column in compared:
        if cron_text not in configured and cron_text not in reported:
            reported.add(cron_text)
            yield repo.finding(
                ID,
                SEVERITY,
                path,
                (line, column),
                f"the scheduled handler compares '{cron_text}', which no trigger in "
                f"{config_path} fires",
                REMEDIATION,
            )


_MODULE_SUFFIXES = ("", ".ts", ".mts", ".js", ".mjs", "/index.ts", "/index.js")


def _compared_with_imports(
    repo: Repository, handler_path: str, facts: dict[str, Any]
) -> tuple[list[tuple[str, str, int, int]], bool]:
    """The crons the entry module compares, and those its relative imports compare (one hop:
    a handler often lives in `scheduled.ts` next to the entry); and whether any of those
    dispatches has a branch for every other cron."""
    found = [(str(c), handler_path, int(line), int(col)) for c, line, col in facts["compared"]]
    catch_all = bool(facts.get("catch_all"))
    for specifier in facts.get("imports", []):
        base = posixpath.normpath(posixpath.join(posixpath.dirname(handler_path), specifier))
        stems = [base, base.removesuffix(".js")] if base.endswith(".js") else [base]
        path = next(
            (
                stem + suffix
                for stem in stems
                for suffix in _MODULE_SUFFIXES
                if repo.exists(stem + suffix)
            ),
            None,
        )
        imported = repo.extract(path, FACTS_KEY, handler_facts) if path else None
        if isinstance(imported, dict) and path is not None:
            found += [(str(c), path, int(line), int(col)) for c, line, col in imported["compared"]]
            catch_all = catch_all or bool(imported.get("catch_all"))
    return found, catch_all


def invalid_reason(expression: str) -> str | None:
    """Why a cron expression is invalid, or None when cronsim accepts it."""
    try:
        CronSim(expression, datetime(2000, 1, 1, tzinfo=UTC))
    except CronSimError as error:
        return str(error)
    return None


def handler_facts(file: SourceFile) -> dict[str, Any] | None:
    """What the worker's entry module says about cron handling (JSON, cached per content)."""
    tree = file.tree
    if tree is None:
        return None
    root = tree.root_node
    compared = [[value, *file.position(node)] for value, node in _compared_crons(file, root)]
    if file.language == "python":
        text = file.text
        defined = "def on_scheduled" in text or "def scheduled" in text
        return {
            "has_scheduled": defined,
            "named_scheduled": None,
            "compared": compared,
            "catch_all": _has_catch_all(file, root),
            "imports": [],
        }
    has = _default_export_has_scheduled(file, root)
    if has is False and root.has_error:
        has = None  # a broken file may hide its handler inside an error node
    return {
        "has_scheduled": has,
        "named_scheduled": _named_scheduled(file, root),
        "compared": compared,
        "catch_all": _has_catch_all(file, root),
        "imports": _relative_imports(file, root),
    }


def _relative_imports(file: SourceFile, root: Node) -> list[str]:
    found = []
    for statement in root.named_children:
        source = statement.child_by_field_name("source")
        if statement.type in ("import_statement", "export_statement") and source is not None:
            specifier = file.node_text(source)[1:-1]
            if specifier.startswith("."):
                found.append(specifier)
    return found


def _unwrap(node: Node | None) -> Node | None:
    while node is not None and node.type in _WRAPPERS:
        node = node.named_children[0] if node.named_children else None
    return node


def _is_cron_reference(file: SourceFile, node: Node | None) -> bool:
    node = _unwrap(node)
    if node is None:
        return False
    if node.type in ("member_expression", "attribute"):
        prop = node.child_by_field_name("property") or node.child_by_field_name("attribute")
        return prop is not None and file.node_text(prop) == "cron"
    return node.type == "identifier" and file.node_text(node) == "cron"


def _string_value(file: SourceFile, node: Node | None) -> str | None:
    node = _unwrap(node)
    if node is None or node.type not in ("string", "template_string"):
        return None
    if any(c.type in ("template_substitution", "interpolation") for c in node.children):
        return None
    if file.language == "python":  # prefixes and triple quotes: read the content itself
        content = [c for c in node.children if c.type == "string_content"]
        return file.node_text(content[0]) if len(content) == 1 else None
    return file.node_text(node)[1:-1]


def _compared_crons(file: SourceFile, root: Node) -> Iterator[tuple[str, Node]]:
    for node in walk(root):
        if node.type == "binary_expression":
            operator = node.child_by_field_name("operator")
            if operator is None or operator.type not in _EQUALITY:
                continue
            left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
            for reference, literal in ((left, right), (right, left)):
                value = _string_value(file, literal)
                if (
                    value is not None
                    and literal is not None
                    and _is_cron_reference(file, reference)
                ):
                    yield value, literal
        elif node.type == "switch_statement" and _is_cron_reference(
            file, node.child_by_field_name("value")
        ):
            body = node.child_by_field_name("body")
            for case in body.named_children if body is not None else []:
                literal = case.child_by_field_name("value")
                value = _string_value(file, literal)
                if value is not None and literal is not None:
                    yield value, literal
        elif node.type in ("subscript_expression", "subscript"):
            yield from _lookup_table_keys(file, root, node)
        elif node.type == "comparison_operator":  # Python: event.cron == "..."
            operands = node.named_children
            if any(_is_cron_reference(file, operand) for operand in operands):
                for operand in operands:
                    value = _string_value(file, operand)
                    if value is not None:
                        yield value, operand
        elif node.type == "match_statement" and _is_cron_reference(
            file, node.child_by_field_name("subject")
        ):
            for case in walk(node):
                if case.type == "case_pattern":
                    yield from _pattern_strings(file, case)


def _pattern_strings(file: SourceFile, pattern: Node) -> Iterator[tuple[str, Node]]:
    """The strings a Python `case` pattern matches: `'x'`, or each of `'x' | 'y'`."""
    for child in pattern.named_children:
        if child.type == "union_pattern":
            yield from _pattern_strings(file, child)
        else:
            value = _string_value(file, child)
            if value is not None:
                yield value, child


def _tests_cron(file: SourceFile, condition: Node | None) -> bool:
    """Is the condition (or a part of it joined by `&&`/`||`, `and`/`or`) `cron === '...'`?"""
    condition = _unwrap(condition)
    if condition is None:
        return False
    if condition.type == "binary_expression":
        operator = condition.child_by_field_name("operator")
        operator_type = operator.type if operator is not None else ""
        left = condition.child_by_field_name("left")
        right = condition.child_by_field_name("right")
        if operator_type in ("&&", "||"):
            return _tests_cron(file, left) or _tests_cron(file, right)
        return operator_type in ("===", "==") and any(
            _is_cron_reference(file, a) and _string_value(file, b) is not None
            for a, b in ((left, right), (right, left))
        )
    if condition.type == "boolean_operator":
        return any(_tests_cron(file, operand) for operand in condition.named_children)
    if condition.type == "comparison_operator":
        operands = condition.named_children
        return (
            [c.type for c in condition.children if not c.is_named] == ["=="]
            and any(_is_cron_reference(file, operand) for operand in operands)
            and any(_string_value(file, operand) is not None for operand in operands)
        )
    return False


def _ends_in_else(statement: Node) -> bool:
    """Does an `if`/`else if` chain (Python: `if`/`elif`) end in a plain `else`?"""
    current: Node | None = statement
    while current is not None:
        alternative = next((c for c in current.children if c.type == "else_clause"), None)
        if alternative is None:
            return False
        body = [c for c in alternative.named_children if c.type != "comment"]
        if not body or body[0].type != "if_statement":
            return True
        current = body[0]
    return False


def _has_catch_all(file: SourceFile, root: Node) -> bool:
    """Does a dispatch on the cron handle every cron it does not name: an `else` after
    `if (event.cron === '...')`, a `default:` in `switch (event.cron)`, a Python `case _:`?"""
    for node in walk(root):
        if node.type == "if_statement":
            if _tests_cron(file, node.child_by_field_name("condition")) and _ends_in_else(node):
                return True
        elif node.type == "switch_statement":
            body = node.child_by_field_name("body")
            if (
                _is_cron_reference(file, node.child_by_field_name("value"))
                and body is not None
                and any(case.type == "switch_default" for case in body.named_children)
            ):
                return True
        elif node.type == "match_statement" and _is_cron_reference(
            file, node.child_by_field_name("subject")
        ):
            body = node.child_by_field_name("body")
            for case in body.named_children if body is not None else []:
                patterns = [c for c in case.named_children if c.type == "case_pattern"]
                wildcard = len(patterns) == 1 and file.node_text(patterns[0]).strip() == "_"
                if wildcard and case.child_by_field_name("guard") is None:
                    return True
    return False


def _lookup_table_keys(file: SourceFile, root: Node, subscript: Node) -> Iterator[tuple[str, Node]]:
    """`JOBS[event.cron]`: the string keys of the object (or dict) literal bound to `JOBS`."""
    index = subscript.child_by_field_name("index") or subscript.child_by_field_name("subscript")
    table = subscript.child_by_field_name("object") or subscript.child_by_field_name("value")
    if not _is_cron_reference(file, index) or table is None or table.type != "identifier":
        return
    name = file.node_text(table)
    for node in walk(root):
        if node.type in ("variable_declarator", "assignment"):
            target = node.child_by_field_name("name") or node.child_by_field_name("left")
            value = _unwrap(node.child_by_field_name("value") or node.child_by_field_name("right"))
            if target is None or file.node_text(target) != name or value is None:
                continue
            if value.type in ("object", "dictionary"):
                for entry in value.named_children:
                    key = entry.child_by_field_name("key")
                    key_value = _string_value(file, key)
                    if key_value is not None and key is not None:
                        yield key_value, key


def _member_names(file: SourceFile, node: Node) -> tuple[set[str], bool]:
    """Names an object literal or class body defines, and whether it spreads in unknown ones."""
    names: set[str] = set()
    opaque = False
    for child in node.named_children:
        if child.type == "spread_element":
            opaque = True
        elif child.type == "shorthand_property_identifier":
            names.add(file.node_text(child))
        elif child.type in (
            "pair",
            "method_definition",
            "public_field_definition",
            "field_definition",
        ):
            key = (
                child.child_by_field_name("key")
                or child.child_by_field_name("name")
                or child.child_by_field_name("property")
            )
            if key is not None:
                names.add(file.node_text(key).strip("'\""))
    return names, opaque


def _top_level_value(file: SourceFile, root: Node, name: str) -> Node | None:
    """What a top-level `const name = ...` or `class name` in the module stands for."""
    for statement in root.named_children:
        declaration = (
            statement.child_by_field_name("declaration")
            if statement.type == "export_statement"
            else statement
        )
        if declaration is None:
            continue
        if declaration.type == "class_declaration":
            class_name = declaration.child_by_field_name("name")
            if class_name is not None and file.node_text(class_name) == name:
                return declaration
        if declaration.type in ("lexical_declaration", "variable_declaration"):
            for declarator in declaration.named_children:
                var = declarator.child_by_field_name("name")
                if var is not None and file.node_text(var) == name:
                    return _unwrap(declarator.child_by_field_name("value"))
    return None


def _handles_scheduled(file: SourceFile, root: Node, value: Node | None) -> bool | None:
    value = _unwrap(value)
    if value is not None and value.type == "identifier":
        value = _top_level_value(file, root, file.node_text(value))
    if value is None:
        return None
    if value.type == "object":
        names, opaque = _member_names(file, value)
        return True if "scheduled" in names else (None if opaque else False)
    if value.type in ("class", "class_declaration"):
        body = value.child_by_field_name("body")
        names = _member_names(file, body)[0] if body is not None else set()
        if "scheduled" in names:
            return True
        heritage = next((c for c in value.named_children if c.type == "class_heritage"), None)
        base = _extended_class(heritage) if heritage is not None else None
        if base is None or _class_name(file, base) == "WorkerEntrypoint":
            return False  # nothing inherited, or only what WorkerEntrypoint has: no scheduled
    return None  # built elsewhere (a call, an import, another base class): cannot tell


def _extended_class(heritage: Node) -> Node | None:
    """The expression after `extends`, without type arguments (`WorkerEntrypoint<Env>` is
    `WorkerEntrypoint`); None when the class only `implements` interfaces."""
    extends = next((c for c in heritage.named_children if c.type == "extends_clause"), None)
    if extends is not None:  # TypeScript: (extends_clause value: ... type_arguments: ...)
        return extends.child_by_field_name("value")
    expressions = [c for c in heritage.named_children if c.type != "comment"]
    if expressions and expressions[0].type != "implements_clause":
        return expressions[0]  # JavaScript: (class_heritage <expression>)
    return None


def _class_name(file: SourceFile, base: Node) -> str | None:
    """`WorkerEntrypoint` for `WorkerEntrypoint` and `cf.WorkerEntrypoint`; None for calls and
    other expressions whose class cannot be told from the text."""
    node = _unwrap(base)
    if node is None:
        return None
    if node.type == "identifier":
        return file.node_text(node)
    if node.type == "member_expression":
        prop = node.child_by_field_name("property")
        return file.node_text(prop) if prop is not None else None
    return None


def _default_export_has_scheduled(file: SourceFile, root: Node) -> bool | None:
    for statement in root.named_children:
        if statement.type != "export_statement":
            continue
        if any(child.type == "default" for child in statement.children):
            value = statement.child_by_field_name("value") or statement.child_by_field_name(
                "declaration"
            )
            return _handles_scheduled(file, root, value)
        if (
            "as default" in file.node_text(statement)
            or " default" in file.node_text(statement).split("{")[-1]
        ):
            return None  # `export { handler as default }`: defined elsewhere
    if "addEventListener(" in file.text and "scheduled" in file.text:
        return None  # service-worker syntax
    return False


def _named_scheduled(file: SourceFile, root: Node) -> list[int] | None:
    for statement in root.named_children:
        if statement.type != "export_statement" or any(
            c.type == "default" for c in statement.children
        ):
            continue
        declaration = statement.child_by_field_name("declaration")
        if declaration is None:
            continue
        if declaration.type in ("function_declaration", "generator_function_declaration"):
            name = declaration.child_by_field_name("name")
            if name is not None and file.node_text(name) == "scheduled":
                return list(file.position(name))
        if declaration.type in ("lexical_declaration", "variable_declaration"):
            for declarator in declaration.named_children:
                var = declarator.child_by_field_name("name")
                if var is not None and file.node_text(var) == "scheduled":
                    return list(file.position(var))
    return None
