"""Which files an audit looks at: what git tracks plus untracked-but-not-ignored files.

Asking git (one `ls-files` call) is both faster than walking the tree and right about
`.gitignore`; outside a repository we walk the directory ourselves. Vendored and generated trees
are excluded by path component wherever they sit, even when someone committed them.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterable, Sequence
from pathlib import Path

from checks.cli_support import UserError
from checks.globs import matcher

DEFAULT_EXCLUDES: tuple[str, ...] = (
    "node_modules",
    "venv",
    ".venv",
    ".wrangler",
    "dist",
    "build",
    "third_party",
    ".git",
    ".readiness-cache",
)
# Files whose presence makes a directory the audited root (with a pyproject `[tool.readiness]`).
ROOT_CONFIG_FILES: tuple[str, ...] = ("readiness.yaml", "readiness.yml")


def _git_files(root: Path) -> list[str] | None:
    """Tracked and untracked-not-ignored files under `root`, or None outside a git work tree."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=root,
            capture_output=True,
            check=False,
        )
    except OSError:  # git itself is missing
        return None
    if listed.returncode != 0:
        return None
    names = listed.stdout.decode("utf-8", errors="surrogateescape").split("\0")
    return sorted({name for name in names if name})


def _walked_files(root: Path, excluded: Iterable[str]) -> list[str]:
    skip_names = {name for name in excluded if "/" not in name and "*" not in name}
    found: list[str] = []
    for directory, subdirectories, names in os.walk(root):
        subdirectories[:] = [d for d in subdirectories if d not in skip_names]
        relative = os.path.relpath(directory, root)
        prefix = "" if relative == "." else relative.replace(os.sep, "/") + "/"
        found.extend(prefix + name for name in names)
    return sorted(found)


def discover(root: Path, excludes: Sequence[str] = DEFAULT_EXCLUDES) -> list[str]:
    """Every file of the tree at `root` an audit may read (POSIX paths relative to `root`)."""
    if not root.is_dir():
        raise UserError(f"{root}: not a directory")
    files = _git_files(root)
    if files is None:
        files = _walked_files(root, excludes)
    is_excluded = matcher(excludes)
    return [path for path in files if not is_excluded(path)]


def _marks_root(directory: Path) -> bool:
    """Does `directory` hold our config or a git checkout (`.git` is a file in a worktree)?"""
    if any((directory / name).is_file() for name in ROOT_CONFIG_FILES):
        return True
    if (directory / ".git").exists():
        return True
    pyproject = directory / "pyproject.toml"
    if not pyproject.is_file():
        return False
    try:
        text = pyproject.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False  # not ours to judge here; loading the config reports it if it matters
    if "readiness" not in text:
        return False
    import tomllib

    try:
        tool = tomllib.loads(text).get("tool")
    except tomllib.TOMLDecodeError:
        return False
    return isinstance(tool, dict) and isinstance(tool.get("readiness"), dict)


def find_root(start: Path) -> Path:
    """The tree an audit started at `start` is about: the nearest directory at or above it with
    `readiness.yaml`/`.yml`, a pyproject `[tool.readiness]` table or `.git`, else `start`.
    Owner paths, config and fingerprints are relative to it wherever the command runs from."""
    start = start.resolve()
    for directory in (start, *start.parents):
        if _marks_root(directory):
            return directory
    return start


def restrict(files: Sequence[str], root: Path, paths: Sequence[Path]) -> list[str]:
    """The discovered files named by `paths` (files or directories, relative to `root` unless
    absolute), as pre-commit passes them; a missing path or one outside the root is a usage
    error."""
    if not paths:
        return list(files)
    resolved_root = root.resolve()
    wanted_files: set[str] = set()
    wanted_dirs: list[str] = []
    for path in paths:
        absolute = (path if path.is_absolute() else root / path).resolve()
        if not absolute.exists():
            raise UserError(f"{path}: no such file or directory")
        try:
            relative = absolute.relative_to(resolved_root).as_posix()
        except ValueError:
            raise UserError(
                f"{path}: outside the audited root {root} (run from inside it or pass --root)"
            ) from None
        if absolute.is_dir():
            wanted_dirs.append("" if relative == "." else relative + "/")
        else:
            wanted_files.add(relative)
    return [
        path
        for path in files
        if path in wanted_files or any(path.startswith(prefix) for prefix in wanted_dirs)
    ]
