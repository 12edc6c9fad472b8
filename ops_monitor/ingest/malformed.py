"""Counting and sampling input that could not be parsed: never fatal, always reported."""

from __future__ import annotations

from dataclasses import dataclass, field

SAMPLE_CHARS = 200


@dataclass
class MalformedLines:
    """Filled in by a source while it is read; its totals go into the next scan's record."""

    keep: int = 10
    count: int = 0
    samples: list[str] = field(default_factory=list)

    def add(self, line_no: int, reason: str, text: str) -> None:
        self.count += 1
        if len(self.samples) < self.keep:
            self.samples.append(f"line {line_no}: {reason}: {text.strip()[:SAMPLE_CHARS]}")
