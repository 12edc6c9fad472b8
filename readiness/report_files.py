"""Atomic file writing: a report (or an imported plan) is either complete on disk or absent.

CI uploads whatever is in the output directory, and a reader may open the HTML while the next run
writes it; a half-written file in either place is worse than none.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path


def write_atomically(path: Path, text: str) -> None:
    """Write `text` to a temporary file beside `path`, flush it to disk, then rename it over."""
    write_all_atomically({path: text})


def write_all_atomically(files: Mapping[Path, str]) -> None:
    """Write every file to a temporary first; rename only once all of them were written."""
    staged: list[tuple[str, Path]] = []
    try:
        for path, text in files.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
            staged.append((temporary, path))
            with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
                stream.write(text)
                stream.flush()
                os.fsync(stream.fileno())
        for temporary, path in staged:
            Path(temporary).replace(path)
        staged.clear()
    finally:
        for temporary, _ in staged:
            Path(temporary).unlink(missing_ok=True)
