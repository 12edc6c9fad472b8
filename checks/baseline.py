"""Adopting the audit on a dirty repository: record today's findings, then fail only on new ones.

Findings match by fingerprint (rule, path, normalised snippet), counted, so a file that gains a
second identical violation still reports the new one, and moving lines changes nothing.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from checks.cli_support import UserError
from checks.model import Finding

FORMAT = 1


def write(path: Path, findings: Iterable[Finding]) -> None:
    """Write the baseline atomically: it is complete or absent."""
    records = [
        {"fingerprint": f.fingerprint, "rule": f.rule, "path": f.path, "message": f.message}
        for f in sorted(findings, key=Finding.sort_key)
    ]
    text = json.dumps({"version": FORMAT, "findings": records}, indent=2) + "\n"
    import tempfile

    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=".baseline-", dir=path.parent)
    with os.fdopen(handle, "w", encoding="utf-8") as stream:
        stream.write(text)
    Path(temporary).replace(path)


def load(spec: str, root: Path) -> Counter[str]:
    """The baseline named by `spec`: a file (relative to the current directory, else to `root`),
    or `REF:PATH`, the file as committed at a git revision of `root` (`origin/main:.baseline.json`),
    so a pull request is judged against the baseline of the branch it merges into."""
    for candidate in (Path(spec), root / spec):
        if candidate.is_file():
            return read(candidate)
    revision, separator, inside = spec.partition(":")
    if not separator or not revision or not inside or len(revision) == 1:  # `C:` is a drive
        return read(Path(spec))  # reports the missing file
    return parse(spec, _git_show(root, revision, inside))


def _git_show(root: Path, revision: str, path: str) -> bytes:
    import subprocess

    try:
        shown = subprocess.run(
            ["git", "show", f"{revision}:{path}"], cwd=root, capture_output=True, check=False
        )
    except OSError as error:
        raise UserError(f"{revision}:{path}: cannot run git: {error.strerror}") from None
    if shown.returncode != 0:
        lines = shown.stderr.decode("utf-8", "replace").strip().splitlines()
        reason = lines[0].removeprefix("fatal: ") if lines else f"git exit {shown.returncode}"
        raise UserError(f"{revision}:{path}: cannot read baseline from git: {reason}")
    return shown.stdout


def read(path: Path) -> Counter[str]:
    """Fingerprint counts of a baseline file; a bad file is a usage error naming it."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise UserError(f"{path}: cannot read baseline: {error.strerror}") from None
    return parse(str(path), data)


def parse(path: str, data: bytes) -> Counter[str]:
    """Fingerprint counts of a baseline document; `path` names it in errors."""
    try:
        document = json.loads(data)
    except ValueError as error:  # also bytes that are not UTF-8 text
        raise UserError(f"{path}: baseline is not valid JSON: {error}") from None
    if not isinstance(document, dict):
        raise UserError(f"{path}: not a readiness baseline (a JSON object with 'findings')")
    records = document.get("findings")
    if document.get("version") != FORMAT or not isinstance(records, list):
        raise UserError(f"{path}: not a readiness baseline (version {FORMAT} with 'findings')")
    counts: Counter[str] = Counter()
    for index, record in enumerate(records):
        if not isinstance(record, dict) or not isinstance(record.get("fingerprint"), str):
            raise UserError(f"{path}: findings[{index}]: missing 'fingerprint'")
        counts[record["fingerprint"]] += 1
    return counts


def subtract(findings: Iterable[Finding], known: Counter[str]) -> tuple[list[Finding], int]:
    """Findings not covered by the baseline, and how many were."""
    remaining = Counter(known)
    new: list[Finding] = []
    matched = 0
    for finding in sorted(findings, key=Finding.sort_key):
        if remaining[finding.fingerprint] > 0:
            remaining[finding.fingerprint] -= 1
            matched += 1
        else:
            new.append(finding)
    return new, matched
