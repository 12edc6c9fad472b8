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
import re
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol, TypeVar

from checks.model import Finding, Severity
from checks.source import SourceFile

T = TypeVar("T")


class FactsStore(Protocol):
    """Where `Repository.extract` keeps the facts of context files between runs."""

    def __call__(self, path: str, key: str, extractor: Callable[[SourceFile], Any]) -> Any:
        """`extractor`'s value for the file at `path`, cached under `key`."""

    def known(self, path: str, key: str) -> tuple[bool, Any]:
        """(True, value) when the value for the file's current content is cached."""

    def remember(self, path: str, key: str, value: Any) -> None:
        """Cache `value` for the file's content as `known` last saw it."""


_recording: ContextVar[set[str] | None] = ContextVar("checks_dependencies", default=None)
_shared: ContextVar[dict[Hashable, Any] | None] = ContextVar("checks_shared", default=None)


def depends_on(*paths: str | os.PathLike[str]) -> None:
    """Note that the running rule's result depends on these files (present or not)."""
    recorded = _recording.get()
    if recorded is None:
        return
    for path in paths:
        recorded.add(str(Path(path).absolute()))


@contextmanager
def recording() -> Iterator[set[str]]:
    """Collect the absolute paths `depends_on` names within the block, and share what
    `shared` computes within it: one run's repo rules see the tree as it was when it began."""
    recorded: set[str] = set()
    token = _recording.set(recorded)
    memo = _shared.set({})
    try:
        yield recorded
    finally:
        _shared.reset(memo)
        _recording.reset(token)


def shared(key: Hashable, compute: Callable[[], T]) -> T:
    """`compute()`, once per run for each `key`: repository-wide facts (a tsconfig chain, a
    parsed config) that several rules and files need are read once. Outside a run (a fixer, a
    test calling a helper), it is computed every time. An exception is not remembered.

    The files `compute` reads are recorded with `depends_on` on its first call only, which is
    enough: the record is for the whole run."""
    memo = _shared.get()
    if memo is None:
        return compute()
    if key in memo:
        value: T = memo[key]
        return value
    value = compute()
    memo[key] = value
    return value


@lru_cache(maxsize=64)
def _translated(patterns: tuple[str, ...]) -> Callable[[str], re.Match[str] | None] | None:
    """`fnmatchcase` for any of `patterns`, as one compiled regex; None for no pattern."""
    if not patterns:
        return None
    return re.compile("|".join(f"(?:{fnmatch.translate(p)})" for p in patterns)).match


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
        self._matching: dict[tuple[str, ...], tuple[str, ...]] = {}

    def is_target(self, path: str) -> bool:
        return path in self._target_set

    def exists(self, path: str) -> bool:
        """Is `path` (POSIX, relative to the root) one of the discovered files?"""
        return path in self._file_set

    def matching(self, *patterns: str, among: Sequence[str] | None = None) -> list[str]:
        """Files whose name (for a pattern without '/') or path matches a glob pattern."""
        if among is None and patterns in self._matching:
            return list(self._matching[patterns])
        by_name = _translated(tuple(p for p in patterns if "/" not in p))
        by_path = _translated(tuple(p for p in patterns if "/" in p))
        found = [
            path
            for path in (self.files if among is None else among)
            if (by_name is not None and by_name(path[path.rfind("/") + 1 :]))
            or (by_path is not None and by_path(path))
        ]
        if among is None:
            self._matching[patterns] = tuple(found)
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

    def extract_many(
        self, paths: Sequence[str], key: str, extractor: Callable[[list[SourceFile]], list[Any]]
    ) -> dict[str, Any]:
        """`extract` for many files with one call of `extractor` on all of those whose value
        is not cached (for work that pays a start-up once, like a compiler process). A None
        value is not remembered: it means "could not tell this time"."""
        values: dict[str, Any] = {}
        pending: list[SourceFile] = []
        for path in paths:
            self._note_read(path)
            if self._facts_store is not None:
                known, value = self._facts_store.known(path, key)
                if known:
                    values[path] = value
                    continue
            source = self.source(path)
            if source is None:
                values[path] = None
            else:
                pending.append(source)
        if pending:
            for source, value in zip(pending, extractor(pending), strict=True):
                values[source.path] = value
                if value is not None and self._facts_store is not None:
                    self._facts_store.remember(source.path, key, value)
        return values

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
