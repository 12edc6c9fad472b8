"""What a rule reports: a finding, its severity, and the fingerprint that survives edits.

The fingerprint deliberately ignores line and column: a baseline written today must still match
the same finding after someone adds an import above it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


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
