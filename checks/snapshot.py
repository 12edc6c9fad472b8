"""The snapshot of a whole run: its key, its scope, and where it is loaded from and saved to.

A warm run over an unchanged tree reuses the previous `Analysis` outright, without loading a rule
or reading a file. The scope (the rules and targets of a run: the full audit, a pre-commit run over
a few files) names the snapshot; the key is a digest of everything its result depends on, and a
snapshot is reused only when its key matches and the files outside the tree the rules read (its
`dependencies`) still look as they did.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from checks import __version__
from checks.cache import Cache, read_document, write_document
from checks.config import Config
from checks.model import Analysis, Directive, Finding
from checks.stamps import code_stamp, racy_after, unchanged

# Whole-run results kept (one per set of targets and rules: the full audit, pre-commit runs).
KEEP_SNAPSHOTS = 16


def scope_of(rule_ids: Sequence[str], targets: Sequence[str]) -> str:
    """A digest of what a run covers: the rules it runs over the targets it audits."""
    # Paths are bytes to git and the file system: a name that is not UTF-8 arrives with its bytes
    # as lone surrogates (PEP 383), which only `surrogateescape` turns back into bytes.
    text = "\0".join([*rule_ids, "", *targets])
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()


def key_of(
    root: Path,
    files: Sequence[str],
    targets: Sequence[str],
    rule_ids: Sequence[str],
    config: Config,
) -> str | None:
    """A digest of everything a run's result depends on: the tool, the rules and their config,
    the targets, and the size and mtime of every discovered file (repo rules may read any of
    them). None when a file changed too recently for its mtime to be trusted."""
    digest = hashlib.sha256(code_stamp())
    settings = (__version__, list(rule_ids), config.ignore, config.rule_options, config.excludes)
    digest.update(repr(settings).encode("utf-8"))
    if config.source is not None:
        source = Path(config.source).stat()
        digest.update(f"{config.source}:{source.st_size}:{source.st_mtime_ns}".encode())
    digest.update("\0".join(targets).encode("utf-8", errors="surrogateescape"))
    limit = racy_after()
    base = str(root) + os.sep
    parts = []
    for path in files:
        try:
            stat = os.stat(base + path)  # noqa: PTH116 - thousands of Path objects cost real time
        except OSError:
            parts.append(f"{path}\0-\n")
            continue
        if stat.st_mtime_ns > limit:
            return None
        parts.append(f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}\n")
    digest.update("".join(parts).encode("utf-8", errors="surrogateescape"))
    return digest.hexdigest()


@dataclass(frozen=True)
class Snapshot:
    """Where the result of one scope is kept, and the key it must match to be reused. `path`
    is None when nothing is kept: no cache, or a file changed too recently to trust."""

    key: str | None
    path: Path | None

    @classmethod
    def of(
        cls,
        cache: Cache,
        root: Path,
        files: Sequence[str],
        targets: Sequence[str],
        rule_ids: Sequence[str],
        config: Config,
    ) -> Snapshot:
        if cache.directory is None:
            return cls(None, None)  # the key stats every file: not worth it when nothing is kept
        key = key_of(root, files, targets, rule_ids, config)
        if key is None:
            return cls(None, None)
        name = f"run-{cache.root_key}-{scope_of(rule_ids, targets)[:12]}.json"
        return cls(key, cache.directory / name)

    def load(self) -> Analysis | None:
        """The whole previous result for this scope, if nothing it depended on has changed."""
        if self.path is None:
            return None
        document = read_document(self.path)
        if not isinstance(document, dict) or document.get("key") != self.key:
            return None
        try:
            analysis = decode(document["analysis"])
        except (AttributeError, KeyError, TypeError, ValueError, IndexError):
            return None
        # Files outside the tree that the rules read (a tsconfig base in node_modules).
        if analysis.dependencies is None or not unchanged(analysis.dependencies):
            return None
        return analysis

    def save(self, analysis: Analysis) -> None:
        if self.path is None or analysis.dependencies is None:
            return  # None: a file the rules read changed too recently to trust its mtime
        write_document(self.path, {"key": self.key, "analysis": encode(analysis)})
        try:
            runs = sorted(self.path.parent.glob("run-*.json"), key=lambda p: p.stat().st_mtime_ns)
        except OSError:
            return
        for stale in runs[:-KEEP_SNAPSHOTS]:
            with contextlib.suppress(OSError):
                stale.unlink()


def encode(analysis: Analysis) -> dict[str, Any]:
    return {
        "findings": [f.to_dict() for f in analysis.findings],
        "directives": {p: [d.to_list() for d in ds] for p, ds in analysis.directives.items()},
        "notes": analysis.notes,
        "skipped": [list(item) for item in analysis.skipped],
        "dependencies": analysis.dependencies,
        "files": analysis.files,
    }


def decode(data: dict[str, Any]) -> Analysis:
    """A stored result, as a run that analysed nothing and reused everything."""
    return Analysis(
        findings=[Finding.from_dict(f) for f in data["findings"]],
        directives={
            p: [Directive.from_list(d) for d in ds] for p, ds in data["directives"].items()
        },
        notes=list(data["notes"]),
        skipped=[(str(path), str(reason)) for path, reason in data.get("skipped", [])],
        dependencies=dict(data.get("dependencies") or {}),
        files=int(data["files"]),
        analysed=0,
        cached=int(data["files"]),
    )
