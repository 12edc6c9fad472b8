"""The trend chart's geometry: a pure function from history to SVG coordinates.

Kept out of the template so the arithmetic is tested on its own and the HTML stays declarative.
"""

from __future__ import annotations

from dataclasses import dataclass

from readiness.report.model import TrendPoint

WIDTH = 640
HEIGHT = 160
PAD = 24


@dataclass(frozen=True)
class ChartPoint:
    x: float
    y: float
    status: str
    label: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    points: list[ChartPoint]

    @property
    def polyline(self) -> str:
        return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in self.points)


def trend_chart(trend: list[TrendPoint]) -> Chart:
    """Share of criteria passing per run, left (oldest) to right (this run)."""
    count = len(trend)
    step = (WIDTH - 2 * PAD) / (count - 1) if count > 1 else 0.0
    points = []
    for index, point in enumerate(trend):
        applied = point.total - point.not_applicable
        share = point.passed / applied if applied else 1.0
        x = PAD + index * step if count > 1 else WIDTH / 2
        y = HEIGHT - PAD - share * (HEIGHT - 2 * PAD)
        commit = (point.commit or "no git")[:8]
        label = (
            f"{point.generated_at:%Y-%m-%d %H:%M} UTC, {commit}: "
            f"{point.passed}/{applied} passing"
            + (f", {point.not_applicable} not applicable" if point.not_applicable else "")
            + f" ({point.status})"
        )
        points.append(ChartPoint(round(x, 1), round(y, 1), point.status, label))
    return Chart(WIDTH, HEIGHT, points)
