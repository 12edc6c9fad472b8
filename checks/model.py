"""The records an audit passes along: what a rule reports (a finding, its severity, and the
fingerprint that survives edits), what a file says about suppressions, what the per-file phase
learnt about one file, and the `Analysis` of a whole run.

The fingerprint deliberately ignores line and column: a baseline written today must still match
the same finding after someone adds an import above it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from checks.stamps import Stamps


class Severity(StrEnum):
    """How bad a finding is; ordered so that `NOTE < WARNING < ERROR`."""

    NOTE = "note"
    WARNING = "warning"
    ERROR = "error"

    @property
    def rank(self) -> int:
        return _RANKS[self.value]

    # str's own comparisons are alphabetical; a severity compares by rank instead.
    def __lt__(self, other: object) -> bool:
        return self.rank < Severity(other).rank if isinstance(other, str) else NotImplemented

    def __le__(self, other: object) -> bool:
        return self.rank <= Severity(other).rank if isinstance(other, str) else NotImplemented

    def __gt__(self, other: object) -> bool:
        return self.rank > Severity(other).rank if isinstance(other, str) else NotImplemented

    def __ge__(self, other: object) -> bool:
        return self.rank >= Severity(other).rank if isinstance(other, str) else NotImplemented


_RANKS = {"note": 0, "warning": 1, "error": 2}


def normalise_snippet(snippet: str) -> str:
    """Collapse whitespace so re-indenting or reflowing a line keeps its fingerprint."""
    return " ".join(snippet.split())


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem at one place. `path` is POSIX and relative to the scanned root; line and
    column are 1-based; `snippet` is the source line (or the config entry) the finding is about."""

    rule: str
    severity: Severity
    path: str
    line: int
    column: int
    message: str
    remediation: str = ""
    snippet: str = ""
    fingerprint: str = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        key = "\0".join((self.rule, self.path, normalise_snippet(self.snippet)))
        # surrogateescape: a file name that is not UTF-8 still has bytes to hash
        digest = hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()[:20]
        object.__setattr__(self, "fingerprint", digest)

    def sort_key(self) -> tuple[str, int, int, str, str]:
        return (self.path, self.line, self.column, self.rule, self.message)

    def to_dict(self) -> dict[str, Any]:
        """The full record, as the on-disk cache and the baseline store it."""
        return {
            "rule": self.rule,
            "severity": self.severity.value,
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "message": self.message,
            "remediation": self.remediation,
            "snippet": self.snippet,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Finding:
        return cls(
            rule=data["rule"],
            severity=Severity(data["severity"]),
            path=data["path"],
            line=data["line"],
            column=data["column"],
            message=data["message"],
            remediation=data.get("remediation", ""),
            snippet=data.get("snippet", ""),
        )


@dataclass(frozen=True)
class Directive:
    """One suppression comment. `own_line`: nothing but the comment on its line, so it covers
    the next line too; a trailing comment after code covers its own line only."""

    line: int
    column: int
    rules: tuple[str, ...]
    reason: str
    snippet: str
    own_line: bool = True

    def to_list(self) -> list[Any]:
        return [self.line, self.column, list(self.rules), self.reason, self.snippet, self.own_line]

    @classmethod
    def from_list(cls, data: Sequence[Any]) -> Directive:
        own_line = bool(data[5]) if len(data) > 5 else True
        return cls(int(data[0]), int(data[1]), tuple(data[2]), str(data[3]), str(data[4]), own_line)

    def covers(self, finding: Finding) -> bool:
        if not self.reason or finding.rule not in self.rules:
            return False
        return finding.line == self.line or (self.own_line and finding.line == self.line + 1)


@dataclass
class FileResult:
    """What the per-file phase learnt about one file, as the cache keeps it by content hash.

    `findings` (per-file rules) and `facts` (what repo rules extract) are keyed by job: rule id,
    rule version and a digest of its options, so changed options never reuse a result. `mtime`
    is None when the file changed too recently for its stamp to be trusted. `fresh` says the file
    was read in this run rather than served from the cache; it is never stored."""

    sha: str | None  # None: the file could not be read
    size: int | None = None
    mtime: int | None = None
    note: str | None = None  # why the file was not analysed (binary, huge, not UTF-8, unreadable)
    findings: dict[str, list[Finding]] = field(default_factory=dict)
    facts: dict[str, Any] = field(default_factory=dict)  # a None fact: nothing to extract
    directives: list[Directive] | None = None  # None: not read yet
    extra: dict[str, Any] = field(default_factory=dict)  # facts of context files, by extractor
    fresh: bool = False

    def has(self, job_key: str) -> bool:
        """Is the result of this job recorded (possibly as "nothing found")?"""
        return job_key in self.findings or job_key in self.facts


@dataclass
class Analysis:
    """What the per-file phase and the repo rules produced, before suppression."""

    findings: list[Finding] = field(default_factory=list)
    directives: dict[str, list[Directive]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    # (path, reason) of every target that was not analysed: binary, huge, not UTF-8, unreadable.
    skipped: list[tuple[str, str]] = field(default_factory=list)
    # Files outside the discovered tree the repo rules read; None when one changed too recently
    # for the result to be reused safely.
    dependencies: Stamps | None = field(default_factory=dict)
    files: int = 0
    analysed: int = 0
    cached: int = 0
    # Worker processes that analysed files in this run (0: this process did all the work).
    workers: int = 0
