"""Atomic file writing: a report, a runbook or an imported plan is complete on disk or absent.

CI uploads whatever is in the output directory, and a reader may open the HTML while the next run
writes it; a half-written file in either place is worse than none.
"""

from __future__ import annotations

import contextlib
import os
import stat
import uuid
from collections.abc import Mapping
from pathlib import Path


def write_atomically(path: Path, text: str) -> None:
    """Write `text` to a temporary file beside `path`, flush it to disk, then rename it over."""
    write_all_atomically({path: text})


def write_all_atomically(files: Mapping[Path, str]) -> None:
    """Write every file to a temporary first; rename only once all of them were written.

    A new file gets the mode the umask gives (readable by a web server or a CI uploader, unlike
    `mkstemp`'s 0600); a replaced file keeps its own mode."""
    staged: list[tuple[Path, Path]] = []
    try:
        for path, text in files.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            temporary = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
            staged.append((temporary, path))
            with temporary.open("x", encoding="utf-8", newline="") as stream:
                stream.write(text)
                stream.flush()
                os.fsync(stream.fileno())
            with contextlib.suppress(FileNotFoundError):
                temporary.chmod(stat.S_IMODE(path.stat().st_mode))
        for temporary, path in staged:
            temporary.replace(path)
        staged.clear()
    finally:
        for temporary, _ in staged:
            temporary.unlink(missing_ok=True)
