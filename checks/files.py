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


def restrict(files: Sequence[str], root: Path, paths: Sequence[Path]) -> list[str]:
    """The discovered files named by `paths` (files or directories, relative to `root` unless
    absolute), as pre-commit passes them; a path outside the root is a usage error."""
    if not paths:
        return list(files)
    resolved_root = root.resolve()
    wanted_files: set[str] = set()
    wanted_dirs: list[str] = []
    for path in paths:
        absolute = (path if path.is_absolute() else root / path).resolve()
        try:
            relative = absolute.relative_to(resolved_root).as_posix()
        except ValueError:
            raise UserError(f"{path}: outside the audited root {root}") from None
        if absolute.is_dir():
            wanted_dirs.append("" if relative == "." else relative + "/")
        elif absolute.exists():
            wanted_files.add(relative)
        else:
            raise UserError(f"{path}: no such file or directory")
    return [
        path
        for path in files
        if path in wanted_files or any(path.startswith(prefix) for prefix in wanted_dirs)
    ]
