"""Human output: findings grouped by file, each with its source line and a caret, then a summary."""

from __future__ import annotations

import io
from itertools import groupby
from typing import TYPE_CHECKING

from checks.model import Finding, Severity

if TYPE_CHECKING:
    from checks.api import AuditResult

_STYLES = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.NOTE: "cyan"}


def _source_line(result: AuditResult, finding: Finding, cache: dict[str, list[str]]) -> str:
    lines = cache.get(finding.path)
    if lines is None:
        try:
            lines = (result.root / finding.path).read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError):
            lines = []
        cache[finding.path] = lines
    return lines[finding.line - 1] if 0 < finding.line <= len(lines) else ""


def _summary(result: AuditResult) -> str:
    counts = result.summary.get("by_severity", {})
    total = len(result.findings)
    parts = [f"{counts[s.value]} {s.value}(s)" for s in reversed(Severity) if s.value in counts]
    detail = f" ({', '.join(parts)})" if parts else ""
    files = result.summary.get("files", 0)
    cached = result.summary.get("cached", 0)
    extras = [
        f"{result.summary[key]} {label}"
        for key, label in (("suppressed", "suppressed"), ("baselined", "in the baseline"))
        if result.summary.get(key)
    ]
    tail = f"; {', '.join(extras)}" if extras else ""
    noun = "finding" if total == 1 else "findings"
    return f"{total} {noun}{detail} in {files} files ({cached} cached){tail}"


def render(result: AuditResult, color: bool = False) -> str:
    from rich.console import Console
    from rich.markup import escape

    buffer = io.StringIO()
    console = Console(
        file=buffer, force_terminal=color, no_color=not color, width=200, highlight=False
    )
    sources: dict[str, list[str]] = {}
    for path, group in groupby(result.findings, key=lambda f: f.path):
        console.print(f"[bold underline]{escape(path)}[/]")
        for f in group:
            style = _STYLES[f.severity]
            console.print(
                f"  {f.line}:{f.column}  [{style}]{f.severity.value}[/]  {escape(f.message)}"
                f"  [dim]\\[{f.rule}][/]"
            )
            line = _source_line(result, f, sources).rstrip().expandtabs(1)
            if line:
                gutter = f"{f.line:>6} | "
                console.print(f"[dim]{gutter}[/]{escape(line)}")
                caret = " " * (len(gutter) - 2) + "| " + " " * (f.column - 1)
                console.print(f"[dim]{caret}[/][{style}]^[/]")
        console.print()
    for note in result.notes:
        console.print(f"[dim]note: {escape(note)}[/]")
    style = "bold red" if result.failed else "bold green"
    console.print(f"[{style}]{escape(_summary(result))}[/]")
    return buffer.getvalue()
