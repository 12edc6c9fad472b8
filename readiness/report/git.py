"""What the report says about the repository it evaluated: commit, branch, uncommitted changes."""

from __future__ import annotations

import logging
from pathlib import Path

from git import GitCommandError, InvalidGitRepositoryError, NoSuchPathError, Repo

from readiness.report.model import GitInfo

log = logging.getLogger(__name__)


def git_metadata(root: Path, ignore: Path | None = None) -> GitInfo | None:
    """Commit, branch and whether the tree has changes; `ignore` (the report's own output
    directory) does not count as a change."""
    try:
        repo = Repo(root, search_parent_directories=True)
    except (InvalidGitRepositoryError, NoSuchPathError):
        if any((folder / ".git").exists() for folder in (root.resolve(), *root.resolve().parents)):
            log.warning("git metadata left out: git refuses to read the repository at %s", root)
        return None
    with repo:
        top = Path(repo.working_tree_dir or root).resolve()
        pathspec: list[str] = []
        if ignore is not None and ignore.resolve().is_relative_to(top):
            pathspec = ["--", f":(top,exclude){ignore.resolve().relative_to(top).as_posix()}"]
        try:
            status = repo.git.status("--porcelain", "--untracked-files=normal", *pathspec)
        except GitCommandError as error:  # e.g. "dubious ownership" in a CI container
            message = (error.stderr or str(error)).strip().removeprefix("stderr: ").strip("'")
            log.warning("git metadata left out: %s", message.splitlines()[0])
            return None
        if not repo.head.is_valid():
            return None  # a repository without commits yet
        branch = None if repo.head.is_detached else repo.active_branch.name
        return GitInfo(commit=repo.head.commit.hexsha, branch=branch, dirty=bool(status))
