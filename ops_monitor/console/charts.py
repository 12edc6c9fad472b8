"""An occurrence chart as inline SVG geometry: pure, so the template only draws what it is given."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from ops_monitor.views.issue_history import TimelineBucket

WIDTH = 720
HEIGHT = 140
AXIS = 18  # room under the bars for the time labels


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str  # the tooltip: when and how many


@dataclass(frozen=True)
class Chart:
    bars: list[Bar]
    peak: int
    first_label: str
    last_label: str
    width: int = WIDTH
    height: int = HEIGHT
    axis: int = AXIS


def chart(timeline: list[TimelineBucket]) -> Chart | None:
    if not timeline:
        return None
    peak = max(bucket.count for bucket in timeline)
    width = timeline[1].start - timeline[0].start if len(timeline) > 1 else timedelta(hours=1)
    slot = WIDTH / len(timeline)
    usable = HEIGHT - AXIS - 4
    bars = []
    for i, bucket in enumerate(timeline):
        height = 0.0 if peak == 0 else bucket.count / peak * usable
        if bucket.count and height < 2:
            height = 2.0  # a single occurrence stays visible
        when = bucket.start.strftime("%Y-%m-%d %H:%M")
        bars.append(
            Bar(
                x=round(i * slot + 1, 2),
                y=round(HEIGHT - AXIS - height, 2),
                width=round(max(slot - 2, 1), 2),
                height=round(height, 2),
                label=f"{when} UTC: {bucket.count}",
            )
        )
    return Chart(
        bars=bars,
        peak=peak,
        first_label=timeline[0].start.strftime("%m-%d %H:%M"),
        last_label=(timeline[-1].start + width).strftime("%m-%d %H:%M"),
    )
