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
    # GitPython parses the patch, including paths git quotes (spaces, quotes, non-ASCII).
    diffs = repo.commit(ref).diff(
        None, paths=prefix or None, create_patch=True, unified=0, no_ext_diff=True
    )
    for diff in diffs:
        if diff.b_path is None or not diff.b_path.startswith(prefix):
            continue  # deleted: no line of it is left to report on
        patch = diff.diff.decode("utf-8", "replace") if isinstance(diff.diff, bytes) else diff.diff
        lines: set[int] = set()
        changed[diff.b_path.removeprefix(prefix)] = lines
        for match in _HUNK.finditer(patch or ""):
            start, count = int(match.group(1)), int(match.group(2) or "1")
            lines.update(range(start, start + count))
    for path in repo.untracked_files:
        if path.startswith(prefix):
            changed[path.removeprefix(prefix)] = None
    return changed
