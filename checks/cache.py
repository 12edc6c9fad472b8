"""The on-disk analysis cache: per-file results keyed by the file's content hash.

One index file per audited root holds, for every file, its SHA-256, its size and mtime (a cheap
shortcut to skip hashing unchanged files, trusted only when the mtime is safely in the past), and
the results of each rule, keyed by rule id, rule version and a digest of its options. A tool
upgrade changes the index name, so stale results are never read. Two runs racing each write a
complete temporary file and `os.replace` it: the last one wins, neither is ever half-written.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from checks import __version__

if TYPE_CHECKING:
    from checks.engine import Analysis

FORMAT = 1
# A file modified less than this long before we stat it may be modified again within the same
# mtime tick; its stat shortcut is not recorded, so the next run hashes it.
RACY_SECONDS = 2.0
# Whole-run results kept (one per set of targets and rules: the full audit, pre-commit runs).
KEEP_SNAPSHOTS = 16

Entry = dict[str, Any]
# Files outside the discovered tree a run's result depends on (a tsconfig base in node_modules):
# path -> [size, mtime_ns], or None for a file that was looked for and is absent.
Stamps = dict[str, list[int] | None]


@lru_cache(maxsize=1)
def code_stamp() -> bytes:
    """Sizes and mtimes of this package's modules: editing the engine or a rule invalidates
    cached results even when nobody bumped a VERSION."""
    package = Path(__file__).parent
    stamps = []
    for directory in (package, package / "rules", package / "output"):
        with os.scandir(directory) as entries:
            for entry in entries:
                if entry.name.endswith(".py"):
                    stat = entry.stat()
                    stamps.append(f"{entry.path}:{stat.st_size}:{stat.st_mtime_ns}")
    return "\n".join(sorted(stamps)).encode("utf-8")


def _stamp(path: str) -> list[int] | None:
    try:
        stat = os.stat(path)  # noqa: PTH116 - plain strings, as recorded
    except OSError:
        return None
    return [stat.st_size, stat.st_mtime_ns]


def stamps(paths: Iterable[str]) -> Stamps | None:
    """Size and mtime of each path; None when one changed too recently for its mtime to be
    trusted (a result that depends on it must not be reused)."""
    limit = (time.time() - RACY_SECONDS) * 1e9
    found: Stamps = {}
    for path in sorted(paths):
        stamp = _stamp(path)
        if stamp is not None and stamp[1] > limit:
            return None
        found[path] = stamp
    return found


def unchanged(recorded: Stamps) -> bool:
    """Does every recorded file still look as it did (an absent one still absent)?"""
    return all(_stamp(path) == stamp for path, stamp in recorded.items())


def default_directory(root: Path) -> Path:
    configured = os.environ.get("READINESS_CACHE_DIR")
    return Path(configured) if configured else root / ".readiness-cache"


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Cache:
    """Per-file entries of one audited root; `directory=None` is a cache that keeps nothing."""

    def __init__(self, directory: Path | None, root: Path) -> None:
        self.directory = directory
        place = hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:8]
        identity = f"{__version__}\0{FORMAT}\0".encode() + code_stamp()
        key = place + "-" + hashlib.sha256(identity).hexdigest()[:12]
        self.path = directory / f"index-{key}.json" if directory is not None else None
        self._place = place
        self.entries: dict[str, Entry] = {}
        self.changed = False
        self._root_key = key

    def _snapshot_path(self, scope: str) -> Path | None:
        if self.directory is None:
            return None
        return self.directory / f"run-{self._root_key}-{scope[:12]}.json"

    def load_snapshot(self, key: str, scope: str) -> Analysis | None:
        """The whole previous result for this scope (targets and rules), if nothing it
        depended on has changed since."""
        path = self._snapshot_path(scope)
        if path is None:
            return None
        try:
            with path.open("rb") as stream:
                document = json.load(stream)
        except (OSError, ValueError):
            return None
        if not isinstance(document, dict) or document.get("key") != key:
            return None
        from checks.engine import Analysis

        try:
            analysis = Analysis.from_dict(document["analysis"])
        except (KeyError, TypeError, ValueError, IndexError):
            return None
        # Files outside the tree that the rules read (a tsconfig base in node_modules).
        if analysis.dependencies is None or not unchanged(analysis.dependencies):
            return None
        return analysis

    def save_snapshot(self, key: str, scope: str, analysis: Analysis) -> None:
        path = self._snapshot_path(scope)
        if path is None or analysis.dependencies is None:
            return  # None: a file the rules read changed too recently to trust its mtime
        self._write(path, {"key": key, "analysis": analysis.to_dict()})
        try:
            runs = sorted(path.parent.glob("run-*.json"), key=lambda p: p.stat().st_mtime_ns)
        except OSError:
            return
        for stale in runs[:-KEEP_SNAPSHOTS]:
            with contextlib.suppress(OSError):
                stale.unlink()

    def load(self) -> None:
        if self.path is None:
            return
        try:
            with self.path.open("rb") as stream:
                document = json.load(stream)
        except (OSError, ValueError):
            return  # absent or damaged: start afresh, the next save repairs it
        if isinstance(document, dict) and isinstance(document.get("files"), dict):
            self.entries = document["files"]

    def lookup(self, path: str, stat: os.stat_result) -> Entry | None:
        """The entry for `path` if its recorded size and mtime still match."""
        entry = self.entries.get(path)
        if entry is None or entry.get("mtime") != stat.st_mtime_ns:
            return None
        return entry if entry.get("size") == stat.st_size else None

    def by_hash(self, path: str, sha: str) -> Entry | None:
        entry = self.entries.get(path)
        return entry if entry is not None and entry.get("sha") == sha else None

    def store(self, path: str, entry: Entry) -> None:
        if entry.get("mtime") is not None and entry["mtime"] > (time.time() - RACY_SECONDS) * 1e9:
            entry = {**entry, "mtime": None}
        self.entries[path] = entry
        self.changed = True

    def prune(self, keep: set[str]) -> None:
        for path in [p for p in self.entries if p not in keep]:
            del self.entries[path]
            self.changed = True

    def save(self) -> None:
        if self.path is None or not self.changed:
            return
        self._write(self.path, {"format": FORMAT, "files": self.entries})
        for stale in self.path.parent.glob(f"index-{self._place}-*.json"):
            if stale != self.path:  # written by an older version of the tool
                with contextlib.suppress(OSError):
                    stale.unlink()

    def _write(self, path: Path, document: dict[str, Any]) -> None:
        """Write a complete temporary file, then rename it over `path` (atomic on POSIX)."""
        import tempfile

        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            ignore = path.parent / ".gitignore"
            if not ignore.exists():
                ignore.write_text("*\n", encoding="utf-8")
            handle, temporary = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
        except OSError:
            return  # a read-only checkout still audits, it just does not remember
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                json.dump(document, stream, separators=(",", ":"))
            Path(temporary).replace(path)
        except OSError:
            with contextlib.suppress(OSError):
                Path(temporary).unlink()
