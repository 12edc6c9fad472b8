"""File stamps (size and mtime) and when to trust them: the one rule every reuse of a result
follows, whether it is a cached per-file result or the snapshot of a whole run.

A file modified less than `RACY_SECONDS` before we stat it may be modified again within the same
mtime tick, so its stamp cannot tell the two versions apart: a result that depends on it is never
reused on the strength of its stamp.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

RACY_SECONDS = 2.0

# Files outside the discovered tree a run's result depends on (a tsconfig base in node_modules):
# path -> [size, mtime_ns], or None for a file that was looked for and is absent.
Stamps = dict[str, list[int] | None]


def racy_after() -> float:
    """The mtime (ns) after which a file changed too recently for its stamp to be trusted; read
    once per run and compared with every file's mtime."""
    return (time.time() - RACY_SECONDS) * 1e9


@lru_cache(maxsize=1)
def code_stamp() -> bytes:
    """Sizes and mtimes of this package's modules: editing the engine or a rule invalidates
    cached results even when nobody bumped a VERSION."""
    package = Path(__file__).parent
    found = []
    for directory in (package, package / "rules", package / "output"):
        with os.scandir(directory) as entries:
            for entry in entries:
                if entry.name.endswith(".py"):
                    stat = entry.stat()
                    found.append(f"{entry.path}:{stat.st_size}:{stat.st_mtime_ns}")
    return "\n".join(sorted(found)).encode("utf-8")


def _stamp(path: str) -> list[int] | None:
    try:
        stat = os.stat(path)  # noqa: PTH116 - plain strings, as recorded
    except OSError:
        return None
    return [stat.st_size, stat.st_mtime_ns]


def stamps(paths: Iterable[str]) -> Stamps | None:
    """Size and mtime of each path; None when one changed too recently for its mtime to be
    trusted (a result that depends on it must not be reused)."""
    limit = racy_after()
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
