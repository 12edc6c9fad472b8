"""The TypeScript second opinion of `syntax-error`, as users see it: where the tool's own copy
lives, installing it ahead of time (`readiness tools install`, for machines that are offline
later), and the one line on stderr that says a run installed it or could not.

Without TypeScript (offline, no node or npm) the rule falls back on the grammars' known gaps:
fewer syntax errors are confirmed, none is invented.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from checks.rules._typescript_parser import TYPESCRIPT_VERSION, cache_dir, find_typescript
from checks.typescript_cache import FAILED_MARKER, Observed


def change_notice(before: Observed, after: Observed) -> str:
    """What to say when a run changed the cache (installed the pinned copy, or failed to)."""
    if before == after:
        return ""
    directory = cache_dir()
    was = before.get(directory.name, (False, False))
    now = after.get(directory.name, (False, False))
    installed = now[0] and _pinned(directory / "node_modules" / "typescript")
    return notice(CacheState(directory, *was), CacheState(directory, installed, now[1]))


@dataclass(frozen=True)
class CacheState:
    """The tool's own copy: its directory, whether the pinned version is there, and whether
    the last install attempt failed."""

    directory: Path
    installed: bool
    failed: bool


def _pinned(package: Path) -> bool:
    try:
        manifest = json.loads((package / "package.json").read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return False
    return isinstance(manifest, dict) and manifest.get("version") == TYPESCRIPT_VERSION


def cache_state() -> CacheState:
    prefix = cache_dir()
    return CacheState(
        prefix, _pinned(prefix / "node_modules" / "typescript"), (prefix / FAILED_MARKER).exists()
    )


def notice(before: CacheState, after: CacheState) -> str:
    """What to say once, when this run changed the cache: installed it, or failed to."""
    if after.installed and not before.installed:
        return (
            f"installed TypeScript {TYPESCRIPT_VERSION} from the npm registry into"
            f" {after.directory} for the syntax-error rule's second opinion (once per user;"
            " 'readiness tools install' prepares it ahead of time)"
        )
    if after.failed and not before.failed:
        return (
            f"could not install TypeScript {TYPESCRIPT_VERSION} into {after.directory} (no npm,"
            " or the registry is unreachable): syntax errors fall back on the grammars' known"
            " gaps; run 'readiness tools install' when online, or set"
            " checks.rules.syntax-error.typescript to a local node_modules"
        )
    return ""


def install() -> CacheState:
    """Install the pinned TypeScript into the tool's cache now (retrying a failed attempt)."""
    prefix = cache_dir()
    (prefix / FAILED_MARKER).unlink(missing_ok=True)
    # The root only matters for refusing a cache inside an audited tree; here there is none.
    find_typescript(prefix / "node_modules", "", install=True)
    return cache_state()


__all__ = ["TYPESCRIPT_VERSION", "CacheState", "cache_state", "change_notice", "install", "notice"]
