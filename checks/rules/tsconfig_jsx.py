"""tsconfig includes .tsx files but sets no `jsx`

## What
A `tsconfig*.json` whose included files contain `.tsx` but whose effective `compilerOptions`
(its own merged over every config it `extends`, relative or from a package in `node_modules`)
set no `jsx`. `include` is read as the compiler reads it (`"."`, `"./src/"` and `"src"` are
directories; `"../shared"` reaches outside the config's directory). Solution-style configs
(`"files": []` with `references`) include nothing and are not reported; a config of a shape the
compiler refuses (`"include": "src"`) is left to the compiler. `readiness check --fix` adds
`"jsx": "react-jsx"` as a text edit that keeps the file's comments and formatting.

## Why
Without `jsx`, `tsc` rejects every JSX expression ("Cannot use JSX unless the '--jsx' flag is
provided"), so the package's typecheck fails before it reaches a real type error.

## How to fix
Add `"jsx": "react-jsx"` (or `preserve` when a bundler transforms JSX) to `compilerOptions`, in
this file or in the base config it extends.

## Example
```jsonc
{
  "extends": "@acme/tsconfig/worker.json",
  "compilerOptions": { "lib": ["DOM"] },   // flagged: src/App.tsx is included, no "jsx"
  "include": ["src/**/*.ts", "src/**/*.tsx"]
}
```

Options: `value` (what `--fix` writes, default `react-jsx`).
"""

from __future__ import annotations

import os
import posixpath
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from checks.model import Finding, Severity
from checks.repository import Repository
from checks.rules import _jsonc
from checks.rules._tsconfig import TsconfigError, effective, included, read_jsonc

ID = "tsconfig-jsx"
TITLE = "tsconfig includes .tsx files but sets no jsx"
SEVERITY = Severity.ERROR
VERSION = 3
FILES = ("tsconfig*.json",)

REMEDIATION = 'Add "jsx": "react-jsx" to compilerOptions (readiness check --fix does it).'


@dataclass(frozen=True)
class Options:
    value: str = "react-jsx"


def check_repo(repo: Repository, options: Options) -> Iterator[Finding]:
    tsx_files = [path for path in repo.files if path.endswith(".tsx")]
    if not tsx_files:
        return
    configs = repo.matching(*FILES)
    bases = _extended_bases(repo, configs)
    for config_path in configs:
        if not repo.is_target(config_path):
            continue
        if (repo.root / config_path).resolve() in bases:
            continue  # a base others extend, with no files of its own: not a project
        try:
            config = effective(repo.root / config_path)
        except TsconfigError:
            continue  # a base we cannot read may set jsx: say nothing rather than guess
        if "jsx" in config.compiler_options:
            continue
        base = posixpath.relpath(config.base.resolve().as_posix(), repo.root.resolve().as_posix())
        relative = [posixpath.relpath(path, base) for path in tsx_files]
        taken = included(config, relative)
        if not taken:
            continue
        example = posixpath.normpath(posixpath.join(base, taken[0]))
        more = f" and {len(taken) - 1} more" if len(taken) > 1 else ""
        yield repo.finding(
            ID,
            SEVERITY,
            config_path,
            _report_line(repo.root / config_path),
            f'includes .tsx files ({example}{more}) but compilerOptions set no "jsx"',
            REMEDIATION,
        )


def _extended_bases(repo: Repository, configs: list[str]) -> set[Path]:
    """Configs that other configs extend and that name no files themselves."""
    bases: set[Path] = set()
    for config_path in configs:
        try:
            chain = effective(repo.root / config_path).chain[:-1]
        except TsconfigError:
            continue
        for base in chain:
            try:
                data = read_jsonc(base)  # read once per run, with the chain above
            except TsconfigError:
                continue
            if not any(name in data for name in ("include", "files")):
                bases.add(base.resolve())
    return bases


def _report_line(path: Path) -> tuple[int, int]:
    """Where `compilerOptions` is written (line, column), else the top of the file."""
    text = path.read_text(encoding="utf-8")
    located = find_compiler_options(text)
    if located is None:
        return 1, 1
    return text.count("\n", 0, located) + 1, located - (text.rfind("\n", 0, located) + 1) + 1


def _skip_string(text: str, index: int) -> int:
    quote = text[index]
    index += 1
    while index < len(text) and text[index] != quote:
        index += 2 if text[index] == "\\" else 1
    return index + 1


def _skip_comment(text: str, index: int) -> int:
    if text.startswith("//", index):
        end = text.find("\n", index)
        return len(text) if end < 0 else end
    end = text.find("*/", index + 2)
    return len(text) if end < 0 else end + 2


def _tokens(text: str) -> Iterator[tuple[int, str]]:
    """(offset, token) for the structural characters and strings of a JSONC text."""
    index = 0
    while index < len(text):
        char = text[index]
        if char in "\"'":
            end = _skip_string(text, index)
            yield index, text[index:end]
            index = end
        elif text.startswith(("//", "/*"), index):
            index = _skip_comment(text, index)
        elif char in "{}[]:,":
            yield index, char
            index += 1
        else:
            index += 1


def find_compiler_options(text: str) -> int | None:
    """Offset of the top-level `"compilerOptions"` key, or None."""
    depth = 0
    for offset, piece in _tokens(text):
        if piece in "{[":
            depth += 1
        elif piece in "}]":
            depth -= 1
        elif depth == 1 and piece[1:-1] == "compilerOptions" and piece[0] in "\"'":
            return offset
    return None


def add_jsx(text: str, value: str) -> str:
    """`text` with `"jsx": value` added as the first compiler option, formatting kept; raises
    ValueError when the text has no object to add it to."""
    tokens = list(_tokens(text))
    key = find_compiler_options(text)
    if key is None:
        opening = next((offset for offset, piece in tokens if piece == "{"), None)
        if opening is None:
            raise ValueError("no top-level object")
        return _insert_member(text, opening, f'"compilerOptions": {{ "jsx": "{value}" }}')
    following = [piece for offset, piece in tokens if offset > key and piece != ":"]
    brace = next((offset for offset, piece in tokens if offset > key and piece == "{"), None)
    if brace is None or not following or following[0] != "{":
        raise ValueError("compilerOptions is not an object")
    return _insert_member(text, brace, f'"jsx": "{value}"')


def _insert_member(text: str, brace: int, member: str) -> str:
    after = brace + 1
    following = next((token for offset, token in _tokens(text[after:])), "}")
    empty = following == "}"
    line_end = text.find("\n", after)
    rest_of_line = text[after:line_end] if line_end >= 0 else text[after:]
    if rest_of_line.strip() and not rest_of_line.strip().startswith("//"):
        # inline object: `{ "lib": [...] }`
        return f"{text[:after]} {member}{'' if empty else ','}{text[after:]}"
    next_line = text[line_end + 1 :] if line_end >= 0 else ""
    content = next((line for line in next_line.splitlines() if line.strip()), "")
    indent = content[: len(content) - len(content.lstrip())] if not empty else ""
    if empty or not indent:
        line_start = text.rfind("\n", 0, brace) + 1
        outer = text[line_start:brace]
        outer = outer[: len(outer) - len(outer.lstrip())]
        indent = outer + "  "
    return f"{text[: line_end + 1]}{indent}{member}{'' if empty else ','}\n{text[line_end + 1 :]}"


def fix(repo: Repository, finding: Finding, options: Options) -> bool:
    path = repo.root / finding.path
    try:
        text = path.read_text(encoding="utf-8")
        changed = add_jsx(text, options.value)
    except (OSError, ValueError):
        return False  # gone, not UTF-8, or no compilerOptions object to add to
    parsed = read_jsonc_text(changed)
    compiler_options = parsed.get("compilerOptions") if parsed is not None else None
    if not isinstance(compiler_options, dict) or compiler_options.get("jsx") != options.value:
        return False  # never write a file we cannot read back
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as handle:
        handle.write(changed)
    Path(temporary).chmod(path.stat().st_mode & 0o777)
    Path(temporary).replace(path)
    return True


def read_jsonc_text(text: str) -> dict[str, Any] | None:
    try:
        data = _jsonc.loads(text)
    except (ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) else None
