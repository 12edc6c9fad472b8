"""Read coverage reports of four tools into one shape: covered and total units per file.

A "unit" is a line, plus a branch where the report counts branches, so that a coverage.py total
computed here equals the one `coverage report` prints. Paths come back relative to the repository
root when they lie inside it, so that per-path globs such as `ops_monitor/api/**` match whichever
tool wrote the report.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class CoverageReportError(ValueError):
    """The report is missing, unreadable or not in the format it claims."""


@dataclass(frozen=True)
class FileCoverage:
    path: str
    covered: int
    total: int


@dataclass(frozen=True)
class CoverageData:
    format: str
    files: list[FileCoverage]
    reported_total: float | None  # the tool's own total, when it states one


def read_report(report: Path, root: Path, fmt: str = "auto") -> CoverageData:
    try:
        text = report.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise CoverageReportError(f"{report}: cannot read coverage report: {error}") from error
    fmt = detect_format(report, text) if fmt == "auto" else fmt
    readers = {
        "coverage-json": _coverage_json,
        "cobertura": _cobertura,
        "lcov": _lcov,
        "istanbul": _istanbul,
    }
    try:
        return readers[fmt](text, root, report)
    except (KeyError, TypeError, ValueError, ElementTree.ParseError) as error:
        if isinstance(error, CoverageReportError):
            raise
        raise CoverageReportError(f"{report}: not a valid {fmt} report: {error}") from error


def detect_format(report: Path, text: str) -> str:
    head = text.lstrip()[:200]
    if report.suffix == ".xml" or head.startswith("<"):
        return "cobertura"
    if report.suffix in {".info", ".lcov"} or re.match(r"^(TN|SF):", head):
        return "lcov"
    try:
        data = json.loads(text)
    except ValueError as error:
        if report.suffix == ".json" or head.lstrip().startswith(("{", "[")):
            raise CoverageReportError(f"{report}: not valid JSON: {error}") from error
        raise CoverageReportError(f"{report}: cannot tell the report's format") from error
    if isinstance(data, dict) and "files" in data and "totals" in data:
        return "coverage-json"
    if isinstance(data, dict) and "total" in data:
        return "istanbul"
    raise CoverageReportError(f"{report}: cannot tell the report's format")


def _relative(path: str, root: Path, bases: list[Path]) -> str:
    """Relative to root where possible; tries each base a report names its files against."""
    candidate = Path(path)
    options = [candidate] if candidate.is_absolute() else [b / candidate for b in bases]
    existing = [option for option in options if option.exists()]
    try:
        return (existing or options)[0].resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return candidate.as_posix()


def _coverage_json(text: str, root: Path, report: Path) -> CoverageData:
    data = json.loads(text)
    files = []
    for path, entry in data["files"].items():
        summary = entry["summary"]
        covered = int(summary["covered_lines"]) + int(summary.get("covered_branches", 0))
        total = int(summary["num_statements"]) + int(summary.get("num_branches", 0))
        files.append(FileCoverage(_relative(path, root, [root, report.parent]), covered, total))
    return CoverageData("coverage-json", files, float(data["totals"]["percent_covered"]))


def _cobertura(text: str, root: Path, report: Path) -> CoverageData:
    tree = ElementTree.fromstring(text)  # noqa: S314 - a report our own CI produced, read locally
    if tree.tag != "coverage":
        raise CoverageReportError(f"{report}: not a Cobertura report (root <{tree.tag}>)")
    bases = [Path(s.text.strip()) for s in tree.iter("source") if s.text and s.text.strip()]
    bases = [b if b.is_absolute() else root / b for b in bases] + [root, report.parent]
    totals: dict[str, list[int]] = {}
    for cls in tree.iter("class"):
        path = _relative(cls.attrib["filename"], root, bases)
        counts = totals.setdefault(path, [0, 0])
        for line in cls.iter("line"):
            hits = int(line.attrib.get("hits", "0"))
            counts[0] += hits > 0
            counts[1] += 1
            branches = re.search(r"\((\d+)/(\d+)\)", line.attrib.get("condition-coverage", ""))
            if line.attrib.get("branch") == "true" and branches:
                counts[0] += int(branches[1])
                counts[1] += int(branches[2])
    files = [FileCoverage(path, covered, total) for path, (covered, total) in totals.items()]
    rate = tree.attrib.get("line-rate")
    return CoverageData("cobertura", files, float(rate) * 100 if rate is not None else None)


def _lcov(text: str, root: Path, report: Path) -> CoverageData:
    files = []
    path: str | None = None
    found = hit = 0
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("SF:"):
            path, found, hit = line[3:], 0, 0
        elif line.startswith("DA:") and path is not None:
            found += 1
            hit += int(line[3:].split(",")[1]) > 0
        elif line == "end_of_record" and path is not None:
            files.append(FileCoverage(_relative(path, root, [root, report.parent]), hit, found))
            path = None
    if not files:
        raise CoverageReportError(f"{report}: no SF/end_of_record entries in the lcov report")
    return CoverageData("lcov", files, None)


def _istanbul(text: str, root: Path, report: Path) -> CoverageData:
    data: dict[str, Any] = json.loads(text)
    files = [
        FileCoverage(
            _relative(path, root, [root, report.parent]),
            int(entry["lines"]["covered"]),
            int(entry["lines"]["total"]),
        )
        for path, entry in data.items()
        if path != "total"
    ]
    total = data["total"]["lines"].get("pct")
    return CoverageData("istanbul", files, float(total) if isinstance(total, int | float) else None)
