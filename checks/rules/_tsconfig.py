"""tsconfig files as the TypeScript compiler sees them: JSONC, with `extends` chains resolved.

`extends` may name a relative file or a package in `node_modules` (found walking up from the
config, as Node resolves it); `compilerOptions` merge base first, while `include`, `exclude` and
`files` are inherited whole, relative to the config that wrote them.

A config of a shape the compiler would refuse (`"include": "src"`, `"compilerOptions": []`, a
package whose `package.json` is not an object) raises TsconfigError: rules then say nothing
about it rather than guess, and never crash.
"""

from __future__ import annotations

import json
import posixpath
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from checks.repository import depends_on, shared
from checks.rules import _jsonc

DEFAULT_INCLUDE = ("**/*",)
_MAX_DEPTH = 16


class TsconfigError(ValueError):
    """A tsconfig in the chain is missing or does not parse."""


@dataclass
class Effective:
    """The merged view of one tsconfig: its options and which files it takes in."""

    compiler_options: dict[str, Any] = field(default_factory=dict)
    include: tuple[str, ...] | None = None
    exclude: tuple[str, ...] | None = None
    files: tuple[str, ...] | None = None
    base: Path = Path()  # the directory `include`/`files` are relative to
    chain: list[Path] = field(default_factory=list)


def read_jsonc(path: Path) -> dict[str, Any]:
    """The parsed config (read once per run; callers must not change it)."""
    return shared(("tsconfig/read", path), lambda: _read_jsonc(path))


def _read_jsonc(path: Path) -> dict[str, Any]:
    depends_on(path)  # a base in node_modules is outside the tree the cache watches
    try:
        data = _jsonc.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError) as error:
        raise TsconfigError(f"{path}: {error}") from None
    if not isinstance(data, dict):
        raise TsconfigError(f"{path}: not an object")
    return data


def resolve_extends(spec: str, directory: Path) -> Path | None:
    """Where an `extends` value points, or None when it cannot be found (once per run)."""
    return shared(("tsconfig/extends", spec, directory), lambda: _resolve_extends(spec, directory))


def _resolve_extends(spec: str, directory: Path) -> Path | None:
    candidates: list[Path] = []
    if spec.startswith((".", "/")):
        target = (directory / spec).resolve()
        candidates = [target, target.with_name(target.name + ".json")]
    else:
        for folder in (directory, *directory.parents):
            package = folder / "node_modules" / spec
            candidates += [package, package.with_name(package.name + ".json")]
            manifest = package / "package.json"
            depends_on(manifest)
            if manifest.is_file():
                try:
                    data = json.loads(manifest.read_text(encoding="utf-8"))
                except (OSError, ValueError, RecursionError):
                    data = None
                declared = data.get("tsconfig") if isinstance(data, dict) else None
                if isinstance(declared, str):
                    candidates.append(package / declared)
                candidates.append(package / "tsconfig.json")
    depends_on(*candidates)  # installing a package may make a missing base appear
    return next((path for path in candidates if path.is_file()), None)


def _strings(path: Path, name: str, value: Any) -> tuple[str, ...] | None:
    """A list-of-strings setting; None when absent (or null); TsconfigError for other shapes."""
    if value is None:
        return None
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return tuple(value)
    raise TsconfigError(f"{path}: '{name}' is not a list of strings")


def effective(path: Path, depth: int = 0) -> Effective:
    """The merged config at `path`; raises TsconfigError for a missing base or bad JSON.
    Computed once per run (callers must not change it)."""
    return shared(("tsconfig/effective", path, depth), lambda: _effective(path, depth))


def _effective(path: Path, depth: int) -> Effective:
    if depth > _MAX_DEPTH:
        raise TsconfigError(f"{path}: extends chain too deep (a cycle?)")
    data = read_jsonc(path)
    result = Effective(base=path.parent)
    extends = data.get("extends")
    bases = (extends,) if isinstance(extends, str) else _strings(path, "extends", extends) or ()
    for spec in bases:
        found = resolve_extends(spec, path.parent)
        if found is None:
            raise TsconfigError(f"{path}: cannot find the base config '{spec}'")
        inherited = effective(found, depth + 1)
        result.compiler_options.update(inherited.compiler_options)
        for name in ("include", "exclude", "files"):
            if getattr(inherited, name) is not None:
                setattr(result, name, getattr(inherited, name))
                result.base = inherited.base
        result.chain += inherited.chain
    options = data.get("compilerOptions")
    if isinstance(options, dict):
        result.compiler_options.update(options)
    elif options is not None:
        raise TsconfigError(f"{path}: 'compilerOptions' is not an object")
    own = {name: _strings(path, name, data.get(name)) for name in ("include", "exclude", "files")}
    if any(value is not None for value in own.values()):
        result.base = path.parent
        for name, value in own.items():
            if value is not None:
                setattr(result, name, value)
    result.chain.append(path)
    return result


def _normalized(pattern: str) -> str:
    """The pattern as the compiler normalises it: `./src/` is `src`, `.` and `./` are the
    config's own directory (''), `a/../b` is `b`; a leading `../` stays."""
    normal = posixpath.normpath(pattern.replace("\\", "/")) if pattern else "."
    return "" if normal == "." else normal


def _ups(path: str) -> tuple[int, str]:
    """How many leading `../` a path has, and the rest."""
    count = 0
    while path == ".." or path.startswith("../"):
        count += 1
        path = path[3:]
    return count, path


def include_regex(pattern: str) -> re.Pattern[str]:
    """A tsconfig `include` pattern (relative to its config, leading `../` removed) as a regex
    on relative paths. A pattern whose last segment has no wildcard and no dot names a
    directory, and so does the config's own directory (`.`): everything below."""
    pattern = _normalized(pattern)
    last = pattern.rsplit("/", 1)[-1]
    if "*" not in last and "?" not in last and "." not in last:
        pattern = f"{pattern}/**/*" if pattern else "**/*"
    out: list[str] = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:[^/]+/)*")
            i += 3
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out))


def included(config: Effective, relative_paths: list[str]) -> list[str]:
    """Which of `relative_paths` (POSIX, relative to `config.base`) the config takes in."""
    if config.files is not None and config.include is None:
        wanted = {_normalized(name) for name in config.files}
        return [path for path in relative_paths if path in wanted]
    includes = [_pattern(p) for p in (config.include or DEFAULT_INCLUDE)]
    excludes = [_pattern(p) for p in (config.exclude or ())]
    return [
        path
        for path in relative_paths
        if _matches_any(path, includes) and not _matches_any(path, excludes)
    ]


def _pattern(pattern: str) -> tuple[int, re.Pattern[str]]:
    ups, rest = _ups(_normalized(pattern))
    return ups, include_regex(rest)


def _matches_any(path: str, patterns: list[tuple[int, re.Pattern[str]]]) -> bool:
    """A path matches a pattern when both climb out of the config's directory equally far
    (`**` never climbs: `**/*` takes nothing from `../shared`) and the rest matches."""
    ups, rest = _ups(path)
    return any(ups == want and regex.fullmatch(rest) for want, regex in patterns)
