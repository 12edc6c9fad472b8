"""The whole scanned tree, as repo-wide rules (config files, cross-file checks) see it.

Repo rules read context anywhere (a `package.json`, a `wrangler.toml`) but report on `targets`,
the files this run is about; the engine drops anything reported elsewhere. Per-file "facts"
(the imports of a module, the crons a handler compares) come from the rule's `extract` hook and
are cached on disk with the file's content hash, so a warm run never re-parses them.

A rule that reads a file outside the discovered tree by other means (a tsconfig base in
`node_modules`) reports it with `Repository.depends_on`, so a cached whole-run result is not
reused after that file changes; `source` and `extract` do it for the files they read. Helpers
with no repository at hand (`checks/rules/_tsconfig.py`) call the module's `depends_on`. The
whole-run snapshot already depends on every discovered file; these extra files are recorded while
the repo rules run (outside a run nothing is recorded) and stamped with their size and mtime.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from checks.model import Finding, Severity
from checks.source import SourceFile

FactsStore = Callable[[str, str, Callable[[SourceFile], Any]], Any]

_recording: ContextVar[set[str] | None] = ContextVar("checks_dependencies", default=None)


def depends_on(*paths: str | os.PathLike[str]) -> None:
    """Note that the running rule's result depends on these files (present or not)."""
    recorded = _recording.get()
    if recorded is None:
        return
    for path in paths:
        recorded.add(str(Path(path).absolute()))


@contextmanager
def recording() -> Iterator[set[str]]:
    """Collect the absolute paths `depends_on` names within the block."""
    recorded: set[str] = set()
    token = _recording.set(recorded)
    try:
        yield recorded
    finally:
        _recording.reset(token)


class Repository:
    """Discovered files of one run, with shared, lazily read `SourceFile`s."""

    def __init__(
        self,
        root: Path,
        files: Sequence[str],
        targets: Sequence[str],
        facts: Mapping[str, Mapping[str, Any]] | None = None,
        sources: dict[str, SourceFile] | None = None,
        facts_store: FactsStore | None = None,
    ) -> None:
        self.root = root
        self.files = list(files)
        self.targets = list(targets)
        self._target_set = frozenset(self.targets)
        self._file_set = frozenset(self.files)
        self._facts = facts or {}
        self._sources: dict[str, SourceFile] = sources if sources is not None else {}
        self._facts_store = facts_store

    def is_target(self, path: str) -> bool:
        return path in self._target_set

    def exists(self, path: str) -> bool:
        """Is `path` (POSIX, relative to the root) one of the discovered files?"""
        return path in self._file_set

    def matching(self, *patterns: str, among: Sequence[str] | None = None) -> list[str]:
        """Files whose name (for a pattern without '/') or path matches a glob pattern."""
        found = []
        for path in self.files if among is None else among:
            name = path.rsplit("/", 1)[-1]
            for pattern in patterns:
                subject = path if "/" in pattern else name
                if fnmatch.fnmatchcase(subject, pattern):
                    found.append(path)
                    break
        return found

    def depends_on(self, *paths: str | Path) -> None:
        """Record that this run's result depends on files (relative to the root, or absolute)
        that may lie outside the discovered tree, present or absent: when one of them changes,
        the next run analyses afresh instead of reusing the cached result."""
        depends_on(*(self.root / path for path in paths))

    def _note_read(self, path: str) -> None:
        if path not in self._file_set:  # discovered files are part of the snapshot key already
            depends_on(self.root / path)

    def source(self, path: str) -> SourceFile | None:
        """The file at `path`, read once per run; None if it is missing or not UTF-8 text."""
        self._note_read(path)
        cached = self._sources.get(path)
        if cached is not None:
            return cached
        absolute = self.root / path
        try:
            data = absolute.read_bytes()
            text = data.decode("utf-8")
        except (OSError, UnicodeDecodeError):
            return None
        source = SourceFile(path, absolute, data, text)
        self._sources[path] = source
        return source

    def facts(self, rule_id: str) -> Mapping[str, Any]:
        """What the rule's `extract` hook returned for each target file (None results omitted)."""
        return self._facts.get(rule_id, {})

    def extract(self, path: str, key: str, extractor: Callable[[SourceFile], Any]) -> Any:
        """`extractor(source(path))`, cached on disk by content hash and `key` (put a version in
        it). Use for context files that are not targets; returns None for unreadable files."""
        self._note_read(path)
        if self._facts_store is not None:
            return self._facts_store(path, key, extractor)
        source = self.source(path)
        return None if source is None else extractor(source)

    def finding(
        self,
        rule: str,
        severity: Severity,
        path: str,
        at: int | tuple[int, int],
        message: str,
        remediation: str = "",
    ) -> Finding:
        """A finding in any file of the tree, with that line as its snippet."""
        source = self.source(path)
        if source is not None:
            return source.finding(rule, severity, at, message, remediation)
        line, column = (at, 1) if isinstance(at, int) else at
        return Finding(rule, severity, path, line, column, message, remediation, "")
