"""Human output, made for large result sets as ruff's is: by default one line per finding
(`path:line:col: severity [rule] message`), then a summary with the count of each rule, most
first, and the hint that names the setting silencing a known false-alarm class. The `grouped`
style shows findings grouped by file, each with its source line and a caret. Skipped files are
only counted here; `--verbose` lists them on stderr."""

from __future__ import annotations

import io
from collections import Counter
from itertools import groupby
from typing import TYPE_CHECKING

from checks.model import Finding, Severity
from checks.output.hints import hint

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
    skipped = len(result.summary.get("skipped", []))
    if skipped:
        extras.append(f"{skipped} skipped (--verbose lists them)")
    tail = f"; {', '.join(extras)}" if extras else ""
    noun = "finding" if total == 1 else "findings"
    return f"{total} {noun}{detail} in {files} files ({cached} cached){tail}"


def rule_counts(result: AuditResult) -> list[tuple[str, int]]:
    """(rule, findings) pairs, most first, then by rule id."""
    counts = Counter(f.rule for f in result.findings)
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def _per_rule(result: AuditResult) -> list[list[Segment]]:
    """One line per rule that reported: its count, id and the hint of its first finding."""
    first: dict[str, Finding] = {}
    for finding in result.findings:
        first.setdefault(finding.rule, finding)
    counted = rule_counts(result)
    width = max((len(str(count)) for _, count in counted), default=1)
    rule_width = max((len(rule) for rule, _ in counted), default=1)
    lines: list[list[Segment]] = []
    for rule, count in counted:
        advice = hint(first[rule])
        line: list[Segment] = [(f"{count:>{width}}  ", "bold")]
        if advice:
            line += [(f"{rule:<{rule_width}}", ""), (f"  {advice}", "dim")]
        else:
            line.append((rule, ""))
        lines.append(line)
    return lines


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


def _concise(result: AuditResult) -> list[list[Segment]]:
    """One line per finding, in the `path:line:col:` form editors and CI logs link."""
    return [
        [
            (f"{f.path}:{f.line}:{f.column}: ", "bold"),
            (f.severity.value, _STYLES[f.severity]),
            (f" [{f.rule}] ", "dim"),
            (" ".join(f.message.split()), ""),
        ]
        for f in result.findings
    ]


def _grouped(result: AuditResult) -> list[list[Segment]]:
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
            advice = hint(f)
            if advice:
                lines.append([(f"  {advice}", "dim")])
        lines.append([])
    return lines


def _lines(result: AuditResult, style: str) -> list[list[Segment]]:
    lines = _grouped(result) if style == "grouped" else _concise(result)
    lines.append([(_summary(result), "bold red" if result.failed else "bold green")])
    if style != "grouped":
        lines.extend(_per_rule(result))
    return lines


def statistics(result: AuditResult, color: bool = False) -> str:
    """`--statistics`: the count of each rule, most first, with its title (as ruff prints it)."""
    titles = {rule.id: rule.title for rule in result.rules}
    from checks.suppression import ENGINE_RULES

    titles.update({rule_id: title for rule_id, (title, _) in ENGINE_RULES.items()})
    counted = rule_counts(result)
    width = max((len(str(count)) for _, count in counted), default=1)
    rule_width = max((len(rule) for rule, _ in counted), default=1)
    lines: list[list[Segment]] = [
        [
            (f"{count:>{width}}  ", "bold"),
            (f"{rule:<{rule_width}}  ", ""),
            (titles.get(rule, ""), ""),
        ]
        for rule, count in counted
    ]
    lines.append([(_summary(result), "bold red" if result.failed else "bold green")])
    return _emit(lines, color)


def verbose_notes(result: AuditResult) -> list[str]:
    """What `--verbose` adds on stderr: every skipped file and the engine's other notes."""
    return [f"note: {note}" for note in result.notes]


def render(result: AuditResult, color: bool = False, style: str = "concise") -> str:
    return _emit(_lines(result, style), color)


def grouped(result: AuditResult, color: bool = False) -> str:
    return render(result, color, "grouped")


def _emit(lines: list[list[Segment]], color: bool) -> str:
    if not color:  # plain text needs no rich: pre-commit and CI logs stay fast to produce
        return "".join("".join(text for text, _ in line) + "\n" for line in lines)
    from rich.console import Console
    from rich.text import Text

    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, width=200, highlight=False)
    for line in lines:
        console.print(Text.assemble(*line), soft_wrap=True)
    return buffer.getvalue()
