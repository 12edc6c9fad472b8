"""The on-disk analysis cache: per-file results keyed by the file's content hash.

One index file per audited root holds, for every file, its SHA-256, its size and mtime (a cheap
shortcut to skip hashing unchanged files, trusted only when the mtime is safely in the past), and
the results of each rule, keyed by rule id, rule version and a digest of its options. A tool
upgrade changes the index name, so stale results are never read. Two runs racing each write a
complete temporary file and `os.replace` it: the last one wins, neither is ever half-written.

The cache stores and loads; what a result means, and when a whole run can be reused
(`checks.snapshot`), is decided by its callers.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from checks import __version__
from checks.model import Directive, FileResult, Finding
from checks.stamps import code_stamp, racy_after

FORMAT = 1
# Prefix of the temporary file a document is written to before it is renamed into place.
TEMPORARY_PREFIX = ".tmp-"

# A `FileResult` as the index file stores it (JSON).
Entry = dict[str, Any]


def default_directory(root: Path) -> Path:
    configured = os.environ.get("READINESS_CACHE_DIR")
    return Path(configured) if configured else root / ".readiness-cache"


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_document(path: Path) -> Any:
    """A JSON document the cache wrote, or None when it is absent or damaged."""
    try:
        with path.open("rb") as stream:
            return json.load(stream)
    except (OSError, ValueError):
        return None


def write_document(path: Path, document: dict[str, Any]) -> None:
    """Write a complete temporary file, then rename it over `path` (atomic on POSIX)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        ignore = path.parent / ".gitignore"
        if not ignore.exists():
            ignore.write_text("*\n", encoding="utf-8")
        handle, temporary = tempfile.mkstemp(prefix=TEMPORARY_PREFIX, dir=path.parent)
    except OSError:
        return  # a read-only checkout still audits, it just does not remember
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            json.dump(document, stream, separators=(",", ":"))
        Path(temporary).replace(path)
    except OSError:
        with contextlib.suppress(OSError):
            Path(temporary).unlink()


def encode(result: FileResult) -> Entry:
    entry: Entry = {"sha": result.sha, "size": result.size, "mtime": result.mtime}
    if result.note is not None:
        entry["note"] = result.note
    entry["findings"] = {
        key: [finding.to_dict() for finding in found] for key, found in result.findings.items()
    }
    entry["facts"] = result.facts
    if result.directives is not None:
        entry["ignores"] = [directive.to_list() for directive in result.directives]
    if result.extra:
        entry["extra"] = result.extra
    return entry


def decode(entry: Entry) -> FileResult | None:
    """The stored result, or None when the entry is not one this version wrote."""
    try:
        ignores = entry.get("ignores")
        return FileResult(
            sha=entry["sha"],
            size=entry.get("size"),
            mtime=entry.get("mtime"),
            note=entry.get("note"),
            findings={
                key: [Finding.from_dict(item) for item in found]
                for key, found in entry.get("findings", {}).items()
            },
            facts=dict(entry.get("facts", {})),
            directives=None if ignores is None else [Directive.from_list(d) for d in ignores],
            extra=dict(entry.get("extra", {})),
        )
    except (AttributeError, KeyError, TypeError, ValueError, IndexError):
        return None


class Cache:
    """Per-file results of one audited root; `directory=None` is a cache that keeps nothing.

    `entries` is the index as read from disk; results are decoded only when asked for, and
    encoded only when saved, so a run that keeps nothing never converts a finding."""

    def __init__(self, directory: Path | None, root: Path) -> None:
        self.directory = directory
        place = hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:8]
        identity = f"{__version__}\0{FORMAT}\0".encode() + code_stamp()
        # Names every file this cache writes for this root and this version of the tool.
        self.root_key = place + "-" + hashlib.sha256(identity).hexdigest()[:12]
        self.path = directory / f"index-{self.root_key}.json" if directory is not None else None
        self._place = place
        self.entries: dict[str, Entry] = {}
        self._results: dict[str, FileResult] = {}
        self._stored: set[str] = set()
        self.changed = False

    def load(self) -> None:
        if self.path is None:
            return
        document = read_document(self.path)
        # absent or damaged: start afresh, the next save repairs it
        if isinstance(document, dict) and isinstance(document.get("files"), dict):
            self.entries = document["files"]
            self._results = {}

    def get(self, path: str) -> FileResult | None:
        """The result last recorded for `path`, whatever the file looks like now."""
        result = self._results.get(path)
        if result is None:
            entry = self.entries.get(path)
            result = decode(entry) if isinstance(entry, dict) else None
            if result is not None:
                self._results[path] = result
        return result

    def lookup(self, path: str, stat: os.stat_result) -> FileResult | None:
        """The result for `path` if its recorded size and mtime still match."""
        result = self._results.get(path)
        if result is None:
            entry = self.entries.get(path)
            if not isinstance(entry, dict) or entry.get("mtime") != stat.st_mtime_ns:
                return None
            result = self.get(path)
        if result is None or result.mtime != stat.st_mtime_ns:
            return None
        return result if result.size == stat.st_size else None

    def by_hash(self, path: str, sha: str) -> FileResult | None:
        result = self.get(path)
        return result if result is not None and result.sha == sha else None

    def store(self, path: str, result: FileResult) -> None:
        if result.mtime is not None and result.mtime > racy_after():
            result = dataclasses.replace(result, mtime=None)
        self._results[path] = dataclasses.replace(result, fresh=False) if result.fresh else result
        self._stored.add(path)
        self.changed = True

    def prune(self, keep: set[str]) -> None:
        for path in [p for p in self.entries if p not in keep]:
            del self.entries[path]
            self.changed = True
        for path in [p for p in self._results if p not in keep]:
            del self._results[path]
            self._stored.discard(path)

    def save(self) -> None:
        if self.path is None or not self.changed:
            return
        for path in self._stored:
            self.entries[path] = encode(self._results[path])
        self._stored.clear()
        write_document(self.path, {"format": FORMAT, "files": self.entries})
        for stale in self.path.parent.glob(f"index-{self._place}-*.json"):
            if stale != self.path:  # written by an older version of the tool
                with contextlib.suppress(OSError):
                    stale.unlink()
