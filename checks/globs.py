"""Path globs as config writes them (`orchestrator/**`, `apps/*/worker/*.ts`, `dist`).

`fnmatch` lets `*` cross '/', which would make `apps/*` match every file under `apps/`; here `*`
stays within one path segment and `**` crosses any number of them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from functools import lru_cache


@lru_cache(maxsize=256)
def glob_regex(pattern: str) -> re.Pattern[str]:
    """Compile one glob. A pattern without '/' matches a file or directory name at any depth; a
    pattern naming a directory also matches everything below it."""
    pattern = pattern.strip().strip("/") if pattern.strip() != "/" else ""
    anchored = "/" in pattern
    out: list[str] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
            continue
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        else:
            out.append(re.escape(char))
        i += 1
    body = "".join(out)
    prefix = "" if anchored else "(?:.*/)?"
    return re.compile(f"{prefix}{body}(?:/.*)?", re.DOTALL)


def matcher(patterns: Iterable[str]) -> Callable[[str], bool]:
    """A predicate: does a POSIX relative path match any of the patterns?"""
    compiled = [glob_regex(p) for p in patterns if p.strip()]
    if not compiled:
        return lambda _path: False
    if len(compiled) == 1:
        single = compiled[0]
        return lambda path: single.fullmatch(path) is not None
    joined = re.compile("|".join(f"(?:{c.pattern})" for c in compiled), re.DOTALL)
    return lambda path: joined.fullmatch(path) is not None
