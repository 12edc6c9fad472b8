"""Issue rules: turn the records a scan reads into issue candidates with severity and evidence.

Pure functions of their input (records, counts, a template miner), so the service can test and
time them without a database. The rules:

* `error` (stability): records at error level or above, grouped by source and message template.
  Severity: critical for critical/fatal records, high for uncaught exceptions, medium otherwise.
* `limit-exceeded` (performance): requests whose outcome says the runtime stopped them
  (`exceededCpu`, `exceededWallTime`, `exceededMemory`), grouped by source and outcome. High.
  An error record whose message is the runtime's own words for a limit ("Worker exceeded CPU
  time limit.") joins the same group instead of filing a stability issue.
* `slow-request` (performance): records whose duration is over the threshold, grouped by source
  and template. Medium, high when over five times the threshold.
* `error-spike` (stability): a source whose error count in a fixed, clock-aligned window is at
  least `spike_factor` times the previous window's (and at least `spike_min_count`). Windows are
  aligned to the epoch, so a full scan and a chain of incremental scans see the same windows. A
  source with no records at all in the previous window has no baseline: not a spike.

A fingerprint is a digest of rule, source and template id: the same problem files the same issue
whichever scan finds it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Collection, Container, Mapping, Set
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from ops_monitor.analysis.templates import TemplateMiner
from ops_monitor.analysis.titles import TitleShape
from ops_monitor.models import IssueCategory, IssueSeverity

ERROR_LEVELS = ("error", "critical", "fatal")
LIMIT_OUTCOMES = ("exceededCpu", "exceededWallTime", "exceededMemory")
EXCEPTION_OUTCOMES = ("exception",)
SAMPLES_PER_ISSUE = 5
SAMPLE_CHARS = 500
TITLE_CHARS = 200

_SEVERITY_RANK = {s: rank for rank, s in enumerate(IssueSeverity)}  # critical first

# What the Workers runtime says when it stops a request for a limit, as it appears in a log line
# rather than as a tail event's outcome: "Worker exceeded CPU time limit.", "Exceeded CPU Limit",
# "Error 1102: Worker exceeded resource limits", "Worker exceeded memory limit.", "Memory limit
# would be exceeded before EOF.", "Script startup exceeded CPU time limit.", "exceeded wall time".
_LIMIT_MESSAGE = re.compile(
    r"\bexceeded\s+(?:the\s+)?(?P<after>cpu|memory|wall[\s-]*(?:clock\s+)?time|resource)"
    r"(?:\s+time)?\s+limits?\b"
    r"|\b(?P<before>cpu|memory)\s+limit\s+(?:would\s+be\s+|was\s+)?exceeded\b"
    r"|\bexceeded\s+wall[\s-]*(?:clock\s+)?time\b",
    re.IGNORECASE,
)
_LIMIT_KINDS = {"cpu": "exceededCpu", "memory": "exceededMemory", "resource": "exceededCpu"}


@dataclass(frozen=True)
class RuleSettings:
    slow_request_ms: float = 1000.0
    spike_window_minutes: int = 60
    spike_factor: float = 5.0
    spike_min_count: int = 20

    @property
    def spike_window_us(self) -> int:
        return self.spike_window_minutes * 60 * 1_000_000


@dataclass
class Candidate:
    """One problem found by a scan, before it is merged into the stored issues."""

    fingerprint: str
    rule: str
    category: IssueCategory
    severity: IssueSeverity
    source: str
    template_id: str
    template: str
    title: str
    occurrences: int
    first_seen_us: int
    last_seen_us: int
    samples: list[str] = field(default_factory=list)
    evidence: dict[str, Any] = field(default_factory=dict)


def fingerprint(rule: str, source: str, template_id: str) -> str:
    return hashlib.sha256(f"{rule}\x1f{source}\x1f{template_id}".encode()).hexdigest()[:40]


def more_severe(a: IssueSeverity, b: IssueSeverity) -> IssueSeverity:
    return a if _SEVERITY_RANK[a] <= _SEVERITY_RANK[b] else b


def iso_us(micros: int) -> str:
    return (datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=micros)).isoformat()


def sample_line(ts_us: int, source: str, level: str, message: str) -> str:
    return f"{iso_us(ts_us)} {source} {level}: {message}"[:SAMPLE_CHARS]


@dataclass
class _Group:
    rule: str
    category: IssueCategory
    severity: IssueSeverity
    source: str
    template_id: str
    template: str
    occurrences: int = 0
    first_seen_us: int = 0
    last_seen_us: int = 0
    samples: list[str] = field(default_factory=list)
    levels: dict[str, int] = field(default_factory=dict)
    shape: TitleShape | None = None  # the title's wording (analysis/titles.py)

    def add(
        self, ts_us: int, level: str, line: str, severity: IssueSeverity, message: str = ""
    ) -> None:
        if message:
            if self.shape is None:
                self.shape = TitleShape.of(message)
            else:
                self.shape.add(message)
        if self.occurrences == 0 or ts_us < self.first_seen_us:
            self.first_seen_us = ts_us
        if self.occurrences == 0 or ts_us > self.last_seen_us:
            self.last_seen_us = ts_us
        self.occurrences += 1
        self.levels[level] = self.levels.get(level, 0) + 1
        self.severity = more_severe(self.severity, severity)
        if len(self.samples) < SAMPLES_PER_ISSUE:
            self.samples.append(line)


_TITLES = {
    "error": "Errors",
    "limit-exceeded": "Runtime limit exceeded",
    "slow-request": "Slow requests",
    "error-spike": "Error spike",
}


def limit_in_message(message: str) -> str | None:
    """The limit outcome (`exceededCpu`, ...) a Workers runtime message reports, if any.
    "Exceeded resource limits" is error 1102, which Cloudflare lists as the CPU time limit."""
    found = _LIMIT_MESSAGE.search(message)
    if found is None:
        return None
    kind = (found.group("after") or found.group("before") or "wall").lower()
    return _LIMIT_KINDS.get(kind, "exceededWallTime")


class CandidateCollector:
    """Feeds records through the rules one at a time (bounded memory: one group per problem)."""

    def __init__(self, settings: RuleSettings, miner: TemplateMiner) -> None:
        self.settings = settings
        self.miner = miner
        self._groups: dict[tuple[str, str, str], _Group] = {}

    def add(
        self,
        ts_us: int,
        source: str,
        level: str,
        message: str,
        outcome: str | None,
        duration_ms: float | None,
    ) -> None:
        """Apply every record rule to one record."""
        is_error = level in ERROR_LEVELS or outcome in EXCEPTION_OUTCOMES
        is_limit = outcome in LIMIT_OUTCOMES
        if is_error and not is_limit and outcome not in EXCEPTION_OUTCOMES:
            # The runtime's own words for a limit, logged as a plain error (no tail outcome):
            # the same performance problem as the outcome, so the same issue, not a stability one.
            outcome = limit_in_message(message) or outcome
            is_limit = outcome in LIMIT_OUTCOMES
            is_error = not is_limit
        is_slow = duration_ms is not None and duration_ms > self.settings.slow_request_ms
        if not (is_error or is_limit or is_slow):
            return
        line = sample_line(ts_us, source, level, message)
        if is_limit and outcome is not None:
            self._group("limit-exceeded", IssueCategory.PERFORMANCE, source, outcome, outcome).add(
                ts_us, level, line, IssueSeverity.HIGH
            )
        if not (is_error or is_slow):
            return
        match = self.miner.match(message)
        if is_error:
            if level in ("critical", "fatal"):
                severity = IssueSeverity.CRITICAL
            elif outcome in EXCEPTION_OUTCOMES:
                severity = IssueSeverity.HIGH
            else:
                severity = IssueSeverity.MEDIUM
            group = self._group(
                "error", IssueCategory.STABILITY, source, match.template_id, match.template
            )
            group.add(ts_us, level, line, severity, message)
        if is_slow and duration_ms is not None:
            slow = duration_ms > 5 * self.settings.slow_request_ms
            self._group(
                "slow-request",
                IssueCategory.PERFORMANCE,
                source,
                match.template_id,
                match.template,
            ).add(
                ts_us,
                level,
                line,
                IssueSeverity.HIGH if slow else IssueSeverity.MEDIUM,
                message,
            )

    def _group(
        self, rule: str, category: IssueCategory, source: str, template_id: str, template: str
    ) -> _Group:
        key = (rule, source, template_id)
        group = self._groups.get(key)
        if group is None:
            group = _Group(rule, category, IssueSeverity.LOW, source, template_id, template)
            self._groups[key] = group
        return group

    def candidates(self) -> list[Candidate]:
        """The groups as candidates, regrouped by each template's surviving id (templates can
        merge while a scan runs), ordered by fingerprint."""
        merged: dict[str, Candidate] = {}
        shapes: dict[str, TitleShape] = {}
        texts = {match.template_id: match.template for match in self.miner.templates()}
        for group in self._groups.values():
            template_id, template = group.template_id, group.template
            if group.rule != "limit-exceeded":
                template_id = self.miner.resolve(template_id)
                template = texts.get(template_id, template)
            print_id = fingerprint(group.rule, group.source, template_id)
            found = merged.get(print_id)
            shape = shapes.get(print_id)
            if shape is None and group.shape is not None:
                shapes[print_id] = TitleShape(list(group.shape.tokens), group.shape.aligned)
            elif shape is not None and group.shape is not None:
                shape.merge(group.shape)
            if found is None:
                merged[print_id] = Candidate(
                    fingerprint=print_id,
                    rule=group.rule,
                    category=group.category,
                    severity=group.severity,
                    source=group.source,
                    template_id=template_id,
                    template=template,
                    title=_title(group.rule, group.source, template),
                    occurrences=group.occurrences,
                    first_seen_us=group.first_seen_us,
                    last_seen_us=group.last_seen_us,
                    samples=list(group.samples),
                    evidence={"levels": dict(group.levels)},
                )
                continue
            found.occurrences += group.occurrences
            found.first_seen_us = min(found.first_seen_us, group.first_seen_us)
            found.last_seen_us = max(found.last_seen_us, group.last_seen_us)
            found.severity = more_severe(found.severity, group.severity)
            found.samples = (found.samples + group.samples)[:SAMPLES_PER_ISSUE]
            levels = found.evidence["levels"]
            for level, count in group.levels.items():
                levels[level] = levels.get(level, 0) + count
        for print_id, shape in shapes.items():
            candidate = merged[print_id]
            candidate.title = _title(
                candidate.rule, candidate.source, shape.text(candidate.template)
            )
        return [merged[key] for key in sorted(merged)]


def _title(rule: str, source: str, template: str) -> str:
    return f"{_TITLES[rule]} in {source}: {template}"[:TITLE_CHARS]


SourceWindows = Mapping[int, Collection[str]]


def find_spikes(
    counts: Mapping[tuple[str, int], int],
    windows: Container[int],
    settings: RuleSettings,
    with_records: Callable[[SourceWindows], Set[tuple[str, int]]] | None = None,
) -> list[Candidate]:
    """Error spikes: `counts` maps (source, window index) to error records in that window;
    `windows` are the window indexes this scan looked at.

    Only windows present in `counts` are visited (a window without errors cannot spike), so the
    cost follows the data, never the time span it covers. A window after one with no errors is
    a spike only if that previous window held records of the source at all: a source with no
    history (its first window, or back after a silence) has no baseline to spike against.
    `with_records` answers, for the (window: sources) it is asked about, which (source, window)
    pairs hold records; without it, no errors before counts as no history."""
    found: list[tuple[str, int, int, int]] = []  # source, window, errors now, errors before
    unknown: dict[int, set[str]] = {}  # previous windows without errors: were there records?
    for (source, window), now in counts.items():
        if window not in windows or now < settings.spike_min_count:
            continue
        before = counts.get((source, window - 1), 0)
        if now < settings.spike_factor * max(before, 1):
            continue
        found.append((source, window, now, before))
        if before == 0:
            unknown.setdefault(window - 1, set()).add(source)
    with_history = with_records(unknown) if with_records is not None and unknown else set()
    spikes: dict[str, Candidate] = {}
    width = settings.spike_window_us
    for source, window, now, before in sorted(found, key=lambda item: (item[1], item[0])):
        if before == 0 and (source, window - 1) not in with_history:
            continue
        start = window * width
        note = f"{iso_us(start)}: {now} errors, {before} in the previous window"
        spike = spikes.get(source)
        if spike is None:
            spike = spikes[source] = Candidate(
                fingerprint=fingerprint("error-spike", source, "*"),
                rule="error-spike",
                category=IssueCategory.STABILITY,
                severity=IssueSeverity.HIGH,
                source=source,
                template_id="*",
                template="error count spike",
                title=_title("error-spike", source, f"errors x{settings.spike_factor:g}"),
                occurrences=0,
                first_seen_us=start,
                last_seen_us=start + width - 1,
                evidence={"windows": []},
            )
        spike.occurrences += 1
        spike.last_seen_us = start + width - 1
        spike.evidence["windows"].append(start)
        if len(spike.samples) < SAMPLES_PER_ISSUE:
            spike.samples.append(note)
    return [spikes[source] for source in sorted(spikes)]
