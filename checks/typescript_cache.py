"""A look at the per-user TypeScript cache cheap enough for every run of `readiness check`: it
imports nothing of the rules, so a warm audit that never loads them stays as fast. The CLI
compares a look before and after the audit; only a change costs `checks.typescript`."""

from __future__ import annotations

import os
from pathlib import Path

FAILED_MARKER = ".install-failed"
# Per version directory: (a typescript package is there, the last install failed).
Observed = dict[str, tuple[bool, bool]]


def cache_root() -> Path:
    """The directory holding one copy per pinned version (the parent of the rule's
    `cache_dir()`; a test holds them together)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "readiness-toolkit" / "typescript"


def observe() -> Observed:
    """What the cache holds now, in a few stat calls."""
    try:
        versions = [entry for entry in cache_root().iterdir() if entry.is_dir()]
    except OSError:
        return {}
    return {
        entry.name: (
            (entry / "node_modules" / "typescript" / "package.json").is_file(),
            (entry / FAILED_MARKER).exists(),
        )
        for entry in versions
    }
