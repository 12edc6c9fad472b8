"""What every gate returns, and what it is given.

A failing gate is an expected outcome and therefore a value (`Status.FAIL` with evidence), not an
exception; `Status.ERROR` says the gate itself could not decide (a missing report, a command that
does not exist, a monitor that does not answer).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

EVIDENCE_LIMIT = 8_000  # characters of output kept per gate: enough to act on, small enough to read


class Status(StrEnum):
    PASS = "pass"  # noqa: S105 - a verdict, not a password
    FAIL = "fail"
    ERROR = "error"
    NOT_APPLICABLE = "not-applicable"


# When a criterion has several gates, the most alarming status wins.
_SEVERITY = {Status.ERROR: 3, Status.FAIL: 2, Status.PASS: 1, Status.NOT_APPLICABLE: 0}


def worst(statuses: list[Status]) -> Status:
    return max(statuses, key=_SEVERITY.__getitem__, default=Status.NOT_APPLICABLE)


@dataclass(frozen=True)
class GateResult:
    kind: str
    status: Status
    summary: str
    evidence: str = ""
    details: Mapping[str, Any] = field(default_factory=dict)
    duration: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "status": self.status.value,
            "summary": self.summary,
            "evidence": self.evidence,
            "details": dict(self.details),
            "duration": round(self.duration, 3),
        }


@dataclass(frozen=True)
class GateContext:
    """Where a gate runs: the repository root, the environment, and a clock tests can set."""

    root: Path
    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    deadline: float | None = None  # time.monotonic() by which the criterion must be decided

    def time_left(self, budget: float) -> float:
        """A gate's own time limit, cut short by its criterion's deadline."""
        if self.deadline is None:
            return budget
        return max(0.001, min(budget, self.deadline - time.monotonic()))


def truncate(text: str, limit: int = EVIDENCE_LIMIT) -> str:
    """Keep the head and the tail of long output: the command line and the verdict live there."""
    if len(text) <= limit:
        return text
    half = limit // 2
    dropped = len(text) - 2 * half
    return f"{text[:half]}\n[... {dropped} characters omitted ...]\n{text[-half:]}"
