"""File that does not parse

## What
A TypeScript, TSX, JavaScript or Python file that the compiler would reject because it does not
parse, reported once, at its first error, with a short description.

tree-sitter finds candidates fast, but its TypeScript and TSX grammars reject some valid code.
So every tree-sitter error is confirmed by a second opinion before it is reported: the TypeScript
parser itself (run by `node`, kept alive for the whole run, and asked only about the few files
tree-sitter flags) and CPython's own compiler for Python. When node or the `typescript` package
is not available, errors that fall on constructs the grammars are known to misread are dropped
instead, so a finding is always one the TypeScript compiler (or CPython) would also report.

## Why
One broken statement stops a whole module from loading: an incomplete `if` in a Worker's
`scheduled` handler made every cron run fail silently until someone read the file by hand.

## How to fix
Open the file at the reported line and complete or remove the broken construct; `tsc --noEmit`
(or `python -m py_compile FILE`) shows the same error.

## Example
```ts
async scheduled(event, env, ctx) {
  if                                   // flagged: '(' expected
    ctx.waitUntil(runScan(env, 'full'));
}
```
Fixed: `if (event.cron === '0 2 * * *') { ... }`.

Options:

- `node`: the node executable (empty: never run it, use the known gaps). A bare name is looked up
  on PATH, skipping PATH entries inside the audited tree (`./node_modules/.bin`).
- `typescript`: a `typescript` package directory, or a directory holding
  `node_modules/typescript`, absolute or relative to the scanned root. Loading TypeScript runs
  its JavaScript, so a copy inside the audited tree (which a pull request could replace) is used
  only when named here, e.g. `typescript: node_modules/typescript`. By default the tool's own
  copy is used: TypeScript 5.9.3 (pinned) in the per-user cache,
  `$XDG_CACHE_HOME/readiness-toolkit/typescript/` (else `~/.cache/...`); a cache inside the
  audited tree is refused.
- `install_typescript` (default true): when the tool's own copy is missing, install it into that
  cache with `npm install --ignore-scripts`, run from the cache directory (the tree's `.npmrc`
  is never read), within 2 minutes; after a failure npm is not tried again for an hour. Set it
  to false for offline CI or pre-commit hooks that must never reach the network: the known gaps
  then decide, with less precision.
"""

from __future__ import annotations

import ast
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from checks.model import Finding, Severity
from checks.repository import Repository
from checks.rules._syntax_gaps import is_known_gap
from checks.rules._typescript_parser import (
    TYPESCRIPT_VERSION,
    prestart,
    typescript_diagnostics,
    typescript_verdicts,
)
from checks.source import SourceFile, walk

if TYPE_CHECKING:
    from tree_sitter import Node

ID = "syntax-error"
TITLE = "File that does not parse"
SEVERITY = Severity.ERROR
VERSION = 3

REMEDIATION = "Complete or remove the broken construct; the compiler reports the same error."


@dataclass(frozen=True)
class Options:
    node: str = "node"
    typescript: str = ""
    install_typescript: bool = True


def extract(file: SourceFile, options: Options) -> dict[str, Any] | None:
    """What the per-file phase learns (cached per content): None when the file parses; else
    where it breaks and, for TypeScript and JavaScript, whether the TypeScript parser must
    confirm it, with what to say when it cannot (None: a known gap of the grammar)."""
    if file.language == "python":
        found = _check_python(file)
        if not found:
            return None
        return {"at": [found[0].line, found[0].column], "message": found[0].message}
    tree = file.tree
    if tree is None or not tree.root_node.has_error:
        return None
    error = first_error(tree.root_node)
    if error is None:  # has_error with no error node: nothing to point at
        return None
    fallback = None if is_known_gap(file, error) else describe(file, error)
    return {"at": list(file.position(error)), "confirm": True, "fallback": fallback}


def prepare(root: Path, options: Options) -> None:
    """A cold audit of many files starts the TypeScript parser (installing it on the first
    run ever) while the files are parsed, not after."""
    prestart(root, options.node, options.typescript, options.install_typescript)


def check_repo(repo: Repository, options: Options) -> Iterator[Finding]:
    """Confirm every candidate with one TypeScript parser, once per audit; its verdicts are
    kept per file content, so a warm run asks again only about files that changed."""
    candidates = sorted(repo.facts(ID).items())
    asked = [path for path, fact in candidates if fact.get("confirm")]
    verdicts = repo.extract_many(
        asked, f"{ID}/verdict/{TYPESCRIPT_VERSION}/{options.typescript}", _confirmer(repo, options)
    )
    for path, fact in candidates:
        message = fact.get("message")
        if fact.get("confirm"):
            verdict = verdicts.get(path)
            if verdict is None:  # no second opinion: the grammars' known gaps decide
                message = fact["fallback"] and f"does not parse: {fact['fallback']}"
            else:
                message = verdict and f"does not parse: {verdict[0]}"
        if message:
            line, column = fact["at"]
            yield repo.finding(ID, SEVERITY, path, (line, column), message, REMEDIATION)


def _confirmer(repo: Repository, options: Options) -> Callable[[list[SourceFile]], list[Any]]:
    """The batch the candidates go to: the TypeScript parser's first message per file ([] when
    it accepts the file, None when no parser can run: then nothing is remembered)."""

    def confirm(files: list[SourceFile]) -> list[Any]:
        verdicts = typescript_verdicts(
            repo.root, files, options.node, options.typescript, options.install_typescript
        )
        return [None if v is None else [d.message for d in v[:1]] for v in verdicts]

    return confirm


def check_file(file: SourceFile, options: Options) -> list[Finding]:
    """The rule on one file on its own (asks the TypeScript parser about this file alone)."""
    if file.language == "python":
        return _check_python(file)
    tree = file.tree
    if tree is None or not tree.root_node.has_error:
        return []
    error = first_error(tree.root_node)
    if error is None:  # has_error with no error node: nothing to point at
        return []
    verdict = typescript_diagnostics(
        file, options.node, options.typescript, options.install_typescript
    )
    if verdict is None:  # no second opinion available: fall back on the grammars' known gaps
        if is_known_gap(file, error):
            return []
        description = describe(file, error)
    elif not verdict:
        return []  # the TypeScript parser accepts the file: a gap in the grammar
    else:
        description = verdict[0].message
    return [file.finding(ID, SEVERITY, error, f"does not parse: {description}", REMEDIATION)]


def first_error(root: Node) -> Node | None:
    """The earliest ERROR or MISSING node, narrowed to the innermost one inside it: an outer
    ERROR often spans the whole enclosing statement while the broken token sits further in."""
    found = next(_flagged(root), None)
    while found is not None and found.is_error:
        inner = next((node for node in _flagged(found) if node.id != found.id), None)
        if inner is None:
            break
        found = inner
    return found


def _flagged(node: Node) -> Iterator[Node]:
    """The ERROR and MISSING nodes at or below `node`, in document order (depth first), entering
    only subtrees that hold an error: a broken file costs a walk along its errors, not over
    every node."""
    stack = [node]
    while stack:
        current = stack.pop()
        if current.is_error or current.is_missing:
            yield current
        stack.extend(
            child
            for child in reversed(current.children)
            if child.has_error or child.is_error or child.is_missing
        )


def describe(file: SourceFile, node: Node) -> str:
    """A short description of a tree-sitter error, for when no compiler message is available."""
    if node.is_missing:
        return f"missing `{node.type}`"
    text = " ".join(file.node_text(node).split())
    if not text:
        return "unexpected end of file"
    return f"unexpected `{text[:40]}{'...' if len(text) > 40 else ''}`"


def _check_python(file: SourceFile) -> list[Finding]:
    """CPython decides; tree-sitter must agree, so syntax newer than the running interpreter
    (which the grammar knows) is not reported as an error."""
    tree = file.tree
    if tree is None:
        return []
    text = file.text
    legacy = ("print " in text or "exec " in text) and any(
        node.type in ("print_statement", "exec_statement") for node in walk(tree.root_node)
    )
    if not (tree.root_node.has_error or legacy):
        return []
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compile(file.text, file.path, "exec", flags=ast.PyCF_ONLY_AST, dont_inherit=True)
    except SyntaxError as error:
        line = max(error.lineno or 1, 1)
        column = max(error.offset or 1, 1)
        message = error.msg or "invalid syntax"
        return [
            file.finding(ID, SEVERITY, (line, column), f"does not parse: {message}", REMEDIATION)
        ]
    except ValueError as error:  # NUL bytes in the source
        return [file.finding(ID, SEVERITY, 1, f"does not parse: {error}", REMEDIATION)]
    return []


__all__ = [
    "ID",
    "SEVERITY",
    "TITLE",
    "Options",
    "check_file",
    "check_repo",
    "describe",
    "extract",
    "first_error",
    "prepare",
]
