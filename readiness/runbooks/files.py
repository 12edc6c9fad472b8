"""The committed runbooks against a fresh render: which are stale (with a unified diff), and
writing those atomically, so each runbook is complete, old or new, never half-written."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from readiness.atomic_write import write_all_atomically


@dataclass(frozen=True)
class StaleRunbook:
    path: Path
    diff: str


def stale_runbooks(out_dir: Path, rendered: Mapping[str, str]) -> list[StaleRunbook]:
    """Runbooks whose committed text differs from a fresh render (missing ones included)."""
    stale = []
    for name, text in sorted(rendered.items()):
        path = out_dir / name
        current = path.read_text(encoding="utf-8") if path.is_file() else None
        if current == text:
            continue
        before = "" if current is None else current
        diff = "".join(
            difflib.unified_diff(
                before.splitlines(keepends=True),
                text.splitlines(keepends=True),
                fromfile=f"{path} (committed)" if current is not None else "/dev/null",
                tofile=f"{path} (rendered)",
            )
        )
        stale.append(StaleRunbook(path=path, diff=diff))
    return stale


def write_runbooks(out_dir: Path, rendered: Mapping[str, str]) -> list[Path]:
    """Write the stale ones atomically: each runbook is complete, old or new, never half-written."""
    stale = {item.path: rendered[item.path.name] for item in stale_runbooks(out_dir, rendered)}
    write_all_atomically(stale)
    return list(stale)
