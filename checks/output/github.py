"""GitHub Actions workflow commands: each finding becomes an annotation on the pull request."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from checks.model import Severity

if TYPE_CHECKING:
    from checks.api import AuditResult

_LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTE: "notice"}


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _prefix(root: Path) -> str:
    """Annotations name files relative to the workspace (the working directory in Actions)."""
    try:
        relative = root.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return ""
    return "" if relative == "." else relative + "/"


def render(result: AuditResult, color: bool = False) -> str:
    prefix = _prefix(result.root)
    lines = []
    for f in result.findings:
        properties = ",".join(
            (
                f"file={_escape_property(prefix + f.path)}",
                f"line={f.line}",
                f"col={f.column}",
                f"title={_escape_property(f.rule)}",
            )
        )
        lines.append(f"::{_LEVELS[f.severity]} {properties}::{_escape_data(f.message)}")
    return "".join(line + "\n" for line in lines)
