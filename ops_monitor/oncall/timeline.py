"""Occurrences over time, and the escalation rule read from them. Pure functions.

An issue is *escalating* when its occurrences in the last window (ending at its last-seen time)
reach `factor` times the mean of the `baseline_windows` windows before it, and at least
`min_count`, for an issue older than its baseline (a quiet issue that suddenly fires counts: a
mean of zero), never in its first day: then it is new, and `issue.new` already said so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ops_monitor.views.issue_history import TimelineBucket

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def buckets(
    times_us: Sequence[int], end: datetime, width: timedelta, count: int
) -> list[TimelineBucket]:
    """`count` windows of `width` ending at `end` (oldest first), each with its occurrences."""
    width_us = width // timedelta(microseconds=1)
    end_us = _micros(end)
    first_start_us = end_us - count * width_us
    counts = [0] * count
    for ts in times_us:
        index = (ts - first_start_us) // width_us
        if 0 <= index < count:
            counts[index] += 1
        elif index == count:  # `end` itself belongs to the last window
            counts[-1] += 1
    return [TimelineBucket(start=end - (count - i) * width, count=counts[i]) for i in range(count)]


def _micros(moment: datetime) -> int:
    return (moment - EPOCH) // timedelta(microseconds=1)


@dataclass(frozen=True)
class EscalationRule:
    window: timedelta = timedelta(hours=1)
    baseline_windows: int = 24
    factor: float = 5.0
    min_count: int = 20


@dataclass(frozen=True)
class Escalation:
    current: int
    baseline_mean: float

    def describe(self, rule: EscalationRule) -> str:
        hours = rule.window / timedelta(hours=1)
        return (
            f"{self.current} in the last {hours:g} h against a mean of "
            f"{self.baseline_mean:.1f} over the {rule.baseline_windows} windows before"
        )


def escalation(
    times_us: Sequence[int], last_seen: datetime, first_seen: datetime, rule: EscalationRule
) -> Escalation | None:
    """Whether the occurrences (newest first or any order) say the issue is escalating."""
    windows = buckets(times_us, last_seen, rule.window, rule.baseline_windows + 1)
    current = windows[-1].count
    baseline = [bucket.count for bucket in windows[:-1]]
    mean = sum(baseline) / len(baseline)
    if current < rule.min_count:
        return None
    if first_seen > last_seen - rule.window * (rule.baseline_windows + 1):
        return None  # younger than its baseline: still new, nothing to escalate from
    return Escalation(current, mean) if current >= rule.factor * mean else None
