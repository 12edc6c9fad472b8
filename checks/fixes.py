"""`--fix`: hand each finding to its rule's `fix` hook, if the rule has one.

Whatever a hook does to newlines, the file keeps its own: a fix on a CRLF checkout must change
the lines it means to change, not every line of the file.
"""

from __future__ import annotations

import os
import tempfile
from difflib import SequenceMatcher
from pathlib import Path

from checks.api import AuditResult
from checks.cli_support import UserError
from checks.config import load
from checks.files import discover
from checks.repository import Repository

_NEWLINES = b"\r\n"


def _ending(line: bytes) -> bytes:
    return line[len(line.rstrip(_NEWLINES)) :]


def keep_line_endings(before: bytes, after: bytes) -> bytes:
    """`after` with the line endings of `before`: lines that are unchanged keep the ending they
    had, new lines get the file's usual one (CRLF when most lines had it)."""
    if b"\r" not in before or before == after:
        return after
    old = before.splitlines(keepends=True)
    new = after.splitlines(keepends=True)
    usual = b"\r\n" if 2 * before.count(b"\r\n") >= before.count(b"\n") else b"\n"
    matcher = SequenceMatcher(
        None, [line.rstrip(_NEWLINES) for line in old], [line.rstrip(_NEWLINES) for line in new]
    )
    out: list[bytes] = []
    for tag, i1, _i2, j1, j2 in matcher.get_opcodes():
        for offset, line in enumerate(new[j1:j2]):
            body, ending = line.rstrip(_NEWLINES), _ending(line)
            if ending and tag == "equal":
                ending = _ending(old[i1 + offset]) or usual
            elif ending:
                ending = usual
            out.append(body + ending)
    return b"".join(out)


def _write_bytes(path: Path, data: bytes) -> None:
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
    Path(temporary).chmod(path.stat().st_mode & 0o777)
    Path(temporary).replace(path)


def apply_fixes(result: AuditResult, config_file: Path | None = None) -> list[str]:
    """Fix what can be fixed safely; returns the paths that changed."""
    fixable = {rule.id: rule for rule in result.rules if rule.fix is not None}
    wanted = [f for f in result.findings if f.rule in fixable]
    if not wanted:
        return []
    config = load(result.root, config_file)
    files = discover(result.root, config.excludes)
    repo = Repository(result.root, files, files)
    changed: list[str] = []
    for finding in wanted:
        rule = fixable[finding.rule]
        fix = rule.fix
        path = result.root / finding.path
        try:
            before = path.read_bytes()
            if fix is None or not fix(repo, finding, config.options_for(rule)):
                continue
            after = path.read_bytes()
            kept = keep_line_endings(before, after)
            if kept != after:
                _write_bytes(path, kept)
        except OSError as error:
            raise UserError(f"{finding.path}: cannot fix: {error.strerror or error}") from None
        changed.append(finding.path)
    return sorted(set(changed))
