"""Imported package not declared in package.json

## What
A bare `import`, `export ... from`, `require(...)`, dynamic `import(...)` (a string, or a
template literal without substitutions) or `import type` in a package's sources or config files
(`vitest.config.ts`, `rollup.config.mjs`, ...) whose package is declared neither in the nearest
`package.json` (`dependencies`, `devDependencies`, `peerDependencies`, `optionalDependencies`)
nor in the workspace root's. Node builtins, `node:`, `cloudflare:` and other scheme imports, the
Workers runtime's own modules (`__STATIC_CONTENT_MANIFEST` of Workers Sites), relative imports,
`#` subpath imports, the package's own name and tsconfig `paths` aliases (and `baseUrl` files)
are fine; a type-only import is also satisfied by the matching `@types/` package. Deep imports
count for their package: `@rollup/plugin-commonjs/dist/x` needs `@rollup/plugin-commonjs`. A
`package.json` that is not JSON, or whose dependency fields are not objects, cannot say what is
declared: nothing under it is reported.

## Why
An undeclared package works on the machine where it happens to be hoisted into `node_modules` and
breaks in CI, in a fresh clone, or after an unrelated upgrade: the rollup plugins the bundle
config imported were missing and blocked every test run.

## How to fix
Add the package to the `package.json` of the package that imports it (`npm install -D NAME -w
PACKAGE` for build and test tooling), or remove the import.

## Example
```js
// orchestrator/rollup.config.mjs
import commonjs from '@rollup/plugin-commonjs';   // flagged: not in orchestrator/package.json
```

Options: `ignore` (package names never reported).
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from checks.model import Finding, Severity
from checks.repository import Repository
from checks.rules._tsconfig import TsconfigError, effective
from checks.source import SourceFile

if TYPE_CHECKING:
    from tree_sitter import Node

ID = "missing-dependency"
TITLE = "Imported package not declared in package.json"
SEVERITY = Severity.ERROR
VERSION = 4
FILES = ("*.ts", "*.mts", "*.cts", "*.tsx", "*.js", "*.jsx", "*.mjs", "*.cjs")
PREFILTER = ("import", "require")
MANIFEST_KEY = f"{ID}/manifest/{VERSION}"
DEPENDENCY_FIELDS = ("dependencies", "devDependencies", "peerDependencies", "optionalDependencies")

NODE_BUILTINS = frozenset(
    {
        "assert",
        "async_hooks",
        "buffer",
        "child_process",
        "cluster",
        "console",
        "constants",
        "crypto",
        "dgram",
        "diagnostics_channel",
        "dns",
        "domain",
        "events",
        "fs",
        "http",
        "http2",
        "https",
        "inspector",
        "module",
        "net",
        "os",
        "path",
        "perf_hooks",
        "process",
        "punycode",
        "querystring",
        "readline",
        "repl",
        "stream",
        "string_decoder",
        "sys",
        "timers",
        "tls",
        "trace_events",
        "tty",
        "url",
        "util",
        "v8",
        "vm",
        "wasi",
        "worker_threads",
        "zlib",
    }
)

# Modules the Workers runtime provides itself, imported by bare name.
WORKERS_BUILTINS = frozenset({"__STATIC_CONTENT_MANIFEST"})

REMEDIATION = "Declare the package in the importing package's package.json, or remove the import."


@dataclass(frozen=True)
class Options:
    ignore: tuple[str, ...] = ()


def package_name(specifier: str) -> str:
    """The package a bare specifier belongs to: `@scope/name/deep` -> `@scope/name`."""
    parts = specifier.split("/")
    return "/".join(parts[:2]) if specifier.startswith("@") else parts[0]


def is_bare(specifier: str) -> bool:
    return bool(specifier) and not specifier.startswith((".", "/", "#")) and ":" not in specifier


def types_package(name: str) -> str:
    return f"@types/{name[1:].replace('/', '__')}" if name.startswith("@") else f"@types/{name}"


# Where an import can start: the keywords, and `require` (an identifier in calls).
_IMPORT_WORDS = re.compile(rb"\b(?:import|export|require)\b")


def extract(file: SourceFile, options: Options) -> list[list[Any]] | None:
    """The bare imports of a module: [specifier, line, column, type_only] (cached per content).

    The tree is visited only where the text says an import may be: each `import`, `export` or
    `require` word is looked up in the tree (in C) and kept when it is the keyword of an import
    or export statement or of `import x = require(...)`, or the callee of `import(...)` or
    `require(...)`. A full query over every node cost a third of the parse."""
    tree = file.tree
    if tree is None or file.language is None or file.language == "python":
        return None
    found: list[list[Any]] = []
    literals = _import_literals(tree.root_node, file.data, file.language != "javascript")
    for literal in sorted(literals, key=lambda node: node.start_byte):
        specifier = file.node_text(literal)[1:-1]
        if not is_bare(specifier):
            continue
        statement = literal.parent
        type_only = statement is not None and any(c.type == "type" for c in statement.children)
        type_only = type_only or _in_type_query(literal)
        found.append([specifier, *file.position(literal), type_only])
    return found or None


def _import_literals(root: Node, data: bytes, typescript: bool) -> list[Node]:
    """The string (or substitution-free template) literals that name an imported module."""
    found: list[Node] = []
    for match in _IMPORT_WORDS.finditer(data):
        node = root.descendant_for_byte_range(match.start(), match.end())
        if node is None or (node.start_byte, node.end_byte) != match.span():
            continue  # part of a longer token: a string, a comment, `$import`
        parent = node.parent
        if parent is not None and node.type == "import" and parent.type == "import":
            node, parent = parent, parent.parent  # `import(...)`: `(import)` wraps the keyword
        if parent is None:
            continue
        kind = node.type
        if (kind, parent.type) in _STATEMENTS or (
            typescript and (kind, parent.type) == ("require", "import_require_clause")
        ):
            source = parent.child_by_field_name("source")
            if source is not None and source.type == "string":
                found.append(source)
        elif (kind == "import" or (kind == "identifier" and node.text == b"require")) and (
            parent.type == "call_expression"
        ):
            found += _call_literals(node, parent)
    return found


def _substitutes(template: Node) -> bool:
    return any(child.type == "template_substitution" for child in template.children)


_STATEMENTS = frozenset({("import", "import_statement"), ("export", "export_statement")})


def _call_literals(callee: Node, call: Node) -> list[Node]:
    """`import("pkg")`, `require("pkg")`: every string argument, or a first argument that is
    a template literal without substitutions."""
    function = call.child_by_field_name("function")
    arguments = call.child_by_field_name("arguments")
    if function is None or function.id != callee.id or arguments is None:
        return []
    if arguments.type != "arguments":
        return []  # a tagged template: require`x`
    found = [child for child in arguments.children if child.type == "string"]
    first = arguments.named_children[0] if arguments.named_child_count else None
    if first is not None and first.type == "template_string" and not _substitutes(first):
        found.append(first)
    return found


def _in_type_query(node: Node) -> bool:
    """`typeof import("pkg")` in a type: needs the package's types, not its code."""
    parent = node.parent
    for _hop in range(4):  # string -> arguments -> call_expression -> type_query
        if parent is None:
            return False
        if parent.type == "type_query":
            return True
        parent = parent.parent
    return False


_OPAQUE: dict[str, Any] = {"name": "", "declared": [], "workspaces": False, "opaque": True}


def _read_manifest(file: SourceFile) -> dict[str, Any]:
    """What a package.json declares; `opaque` when it is not JSON or its dependency fields
    are not objects: a manifest we cannot read may declare anything, so nothing is reported."""
    try:
        data = json.loads(file.text.removeprefix("\ufeff"))
    except (ValueError, RecursionError):
        return dict(_OPAQUE)
    if not isinstance(data, dict):
        return dict(_OPAQUE)
    declared: list[str] = []
    for field in DEPENDENCY_FIELDS:
        entries = data.get(field)
        if isinstance(entries, dict):
            declared += list(entries)
        elif entries is not None:
            return dict(_OPAQUE)
    name = data.get("name")
    return {
        "name": name if isinstance(name, str) else "",
        "declared": sorted(set(declared)),
        "workspaces": "workspaces" in data,
        "opaque": False,
    }


class _Context:
    """Manifests, workspace roots and tsconfig aliases, each read once per run."""

    def __init__(self, repo: Repository) -> None:
        self.repo = repo
        self._aliases: dict[str, tuple[list[str], list[Path]]] = {}
        self._tsconfigs: dict[str, list[str]] = {}
        self._manifests: dict[str, dict[str, Any] | None] = {}
        self._roots: dict[str, str | None] = {}
        self._package_dirs: dict[str, str | None] = {}
        self._local: dict[tuple[Path, str], bool] = {}
        for path in repo.matching("tsconfig*.json"):
            self._tsconfigs.setdefault(posixpath.dirname(path), []).append(path)

    def manifest(self, directory: str) -> dict[str, Any] | None:
        if directory not in self._manifests:
            self._manifests[directory] = self._read_manifest(directory)
        return self._manifests[directory]

    def _read_manifest(self, directory: str) -> dict[str, Any] | None:
        path = posixpath.join(directory, "package.json") if directory else "package.json"
        if not (self.repo.root / path).is_file():
            return None
        facts = self.repo.extract(path, MANIFEST_KEY, _read_manifest)
        return facts if isinstance(facts, dict) else dict(_OPAQUE)  # not UTF-8, unreadable

    def package_dir(self, path: str) -> str | None:
        directory = posixpath.dirname(path)
        if directory not in self._package_dirs:
            self._package_dirs[directory] = self._package_dir(directory)
        return self._package_dirs[directory]

    def _package_dir(self, directory: str) -> str | None:
        while True:
            if self.manifest(directory) is not None:
                return directory
            if not directory:
                return None
            directory = posixpath.dirname(directory)

    def is_local(self, base: Path, specifier: str) -> bool:
        """Does `specifier` name a file under a `baseUrl` directory?"""
        key = (base, specifier)
        if key not in self._local:
            self._local[key] = any(
                (base / f"{specifier}{suffix}").is_file() for suffix in _LOCAL_SUFFIXES
            )
        return self._local[key]

    def workspace_root(self, package_dir: str) -> str | None:
        if package_dir not in self._roots:
            self._roots[package_dir] = self._workspace_root(package_dir)
        return self._roots[package_dir]

    def _workspace_root(self, package_dir: str) -> str | None:
        directory = package_dir
        while directory:
            directory = posixpath.dirname(directory)
            manifest = self.manifest(directory)
            if manifest is not None and (manifest.get("workspaces") or manifest.get("opaque")):
                return directory  # an unreadable manifest may be the root: treat it as one
            if (self.repo.root / directory / "pnpm-workspace.yaml").is_file():
                return directory
        return None

    def aliases(self, directory: str) -> tuple[list[str], list[Path]]:
        """tsconfig `paths` patterns and `baseUrl` directories declared in one directory."""
        if directory not in self._aliases:
            patterns: list[str] = []
            base_urls: list[Path] = []
            for config in self._tsconfigs.get(directory, []):
                try:
                    merged = effective(self.repo.root / config)
                except TsconfigError:
                    continue
                options = merged.compiler_options
                paths = options.get("paths")
                if isinstance(paths, dict):
                    patterns += [key for key in paths if isinstance(key, str)]
                base_url = options.get("baseUrl")
                if isinstance(base_url, str):
                    base_urls.append((self.repo.root / config).parent / base_url)
            self._aliases[directory] = (patterns, base_urls)
        return self._aliases[directory]


def _matches_alias(specifier: str, pattern: str) -> bool:
    if "*" not in pattern:
        return specifier == pattern
    prefix, _star, suffix = pattern.partition("*")
    return specifier.startswith(prefix) and specifier.endswith(suffix)


_LOCAL_SUFFIXES = (
    "",
    ".ts",
    ".tsx",
    ".d.ts",
    ".js",
    ".jsx",
    ".mjs",
    ".json",
    "/index.ts",
    "/index.js",
)


def _is_alias(
    context: _Context, path: str, package_dir: str, root: str | None, specifier: str
) -> bool:
    directories: list[str] = []
    directory = posixpath.dirname(path)
    while True:
        directories.append(directory)
        if directory == package_dir or not directory:
            break
        directory = posixpath.dirname(directory)
    if root is not None:
        directories.append(root)
    for folder in directories:
        patterns, base_urls = context.aliases(folder)
        if any(_matches_alias(specifier, pattern) for pattern in patterns):
            return True
        if any(context.is_local(base, specifier) for base in base_urls):
            return True
    return False


def check_repo(repo: Repository, options: Options) -> Iterator[Finding]:
    context = _Context(repo)
    for path, imports in sorted(repo.facts(ID).items()):
        package_dir = context.package_dir(path)
        if package_dir is None:
            continue  # not inside an npm package
        manifest = context.manifest(package_dir) or {}
        root = context.workspace_root(package_dir)
        root_manifest = context.manifest(root) if root is not None else None
        if manifest.get("opaque") or (root_manifest or {}).get("opaque"):
            continue  # a manifest we cannot read may declare anything
        declared = set(manifest.get("declared", [])) | {manifest.get("name", "")}
        if root_manifest is not None:
            declared |= set(root_manifest["declared"]) | {root_manifest["name"]}
        for specifier, line, column, type_only in imports:
            name = package_name(specifier)
            if name in declared or name in options.ignore or name in NODE_BUILTINS:
                continue
            if name in WORKERS_BUILTINS:
                continue
            if (type_only or path.endswith(".d.ts")) and types_package(name) in declared:
                continue
            if _is_alias(context, path, package_dir, root, specifier):
                continue
            where = posixpath.join(package_dir, "package.json") if package_dir else "package.json"
            if root is not None:
                where += f" or the workspace root ({posixpath.join(root, 'package.json')})"
            yield repo.finding(
                ID,
                SEVERITY,
                path,
                (line, column),
                f"'{name}' is imported but not declared in {where}",
                REMEDIATION,
            )
