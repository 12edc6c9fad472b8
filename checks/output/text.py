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


Segment = tuple[str, str]  # (text, rich style; "" for none)

# At most this many characters of a source line are shown: a minified bundle's one line of
# megabytes (and a caret line as long) would bury every other finding.
CONTEXT = 120
_ELLIPSIS = "..."


def _window(line: str, column: int) -> tuple[str, int]:
    """The part of `line` shown around the 1-based `column`, and the caret's offset in it."""
    index = max(column - 1, 0)
    if len(line) <= CONTEXT:
        return line, index
    index = min(index, len(line))
    start = max(0, min(index - CONTEXT // 2, len(line) - CONTEXT))
    end = start + CONTEXT
    prefix = _ELLIPSIS if start > 0 else ""
    suffix = _ELLIPSIS if end < len(line) else ""
    return prefix + line[start:end] + suffix, len(prefix) + index - start


def _lines(result: AuditResult) -> list[list[Segment]]:
    lines: list[list[Segment]] = []
    sources: dict[str, list[str]] = {}
    for path, group in groupby(result.findings, key=lambda f: f.path):
        lines.append([(path, "bold underline")])
        for f in group:
            style = _STYLES[f.severity]
            lines.append(
                [
                    (f"  {f.line}:{f.column}  ", ""),
                    (f.severity.value, style),
                    (f"  {f.message}  ", ""),
                    (f"[{f.rule}]", "dim"),
                ]
            )
            line = _source_line(result, f, sources).rstrip().expandtabs(1)
            if line:
                shown, offset = _window(line, f.column)
                gutter = f"{f.line:>6} | "
                lines.append([(gutter, "dim"), (shown, "")])
                caret = " " * (len(gutter) - 2) + "| " + " " * offset
                lines.append([(caret, "dim"), ("^", style)])
        lines.append([])
    lines.extend([(f"note: {note}", "dim")] for note in result.notes)
    lines.append([(_summary(result), "bold red" if result.failed else "bold green")])
    return lines


def render(result: AuditResult, color: bool = False) -> str:
    lines = _lines(result)
    if not color:  # plain text needs no rich: pre-commit and CI logs stay fast to produce
        return "".join("".join(text for text, _ in line) + "\n" for line in lines)
    from rich.console import Console
    from rich.text import Text

    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, width=200, highlight=False)
    for line in lines:
        console.print(Text.assemble(*line), soft_wrap=True)
    return buffer.getvalue()
