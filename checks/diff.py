"""`--diff-base REF`: keep only findings on lines changed since a git ref (and in new files)."""

from __future__ import annotations

import re
from pathlib import Path

from checks.cli_support import UserError

_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@", re.MULTILINE)

# None for a file that is wholly new (every line counts as changed).
ChangedLines = dict[str, set[int] | None]


def changed_lines(root: Path, ref: str) -> ChangedLines:
    """Lines added or modified in the working tree since `ref`, by path relative to `root`."""
    import git

    try:
        repo = git.Repo(root, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        raise UserError(f"--diff-base: {root} is not inside a git repository") from None
    try:
        repo.commit(ref)
    except (git.BadName, ValueError, git.GitCommandError):
        raise UserError(f"--diff-base: unknown git ref {ref!r}") from None
    top = Path(repo.working_tree_dir or root).resolve()
    prefix = root.resolve().relative_to(top).as_posix()
    prefix = "" if prefix == "." else prefix + "/"
    changed: ChangedLines = {}
    relative = f"--relative={prefix}" if prefix else "--relative"
    scope = prefix or "."
    patch = repo.git.diff(ref, "--unified=0", "--no-color", "--no-ext-diff", relative, "--", scope)
    current: str | None = None
    for line in patch.splitlines():
        if line.startswith("+++ "):
            target = line[4:]
            current = target[2:] if target.startswith("b/") else None
            if current is not None:
                changed.setdefault(current, set())
        elif line.startswith("@@") and current is not None:
            match = _HUNK.match(line)
            lines = changed[current]
            if match is not None and lines is not None:
                start, count = int(match.group(1)), int(match.group(2) or "1")
                lines.update(range(start, start + count))
    untracked = repo.git.ls_files("--others", "--exclude-standard", "--", scope)
    for path in untracked.splitlines():
        changed[path.removeprefix(prefix)] = None
    return changed
