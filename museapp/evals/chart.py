"""The evaluation page's chart: each condition's accuracy (with its 95%
interval) against its mean tokens per answer, as SVG coordinates."""

from __future__ import annotations

from dataclasses import dataclass

WIDTH, HEIGHT = 600, 240


@dataclass(frozen=True)
class Point:
    label: str
    x: float
    y: float
    low: float  # the interval's ends, in SVG y (up is better)
    high: float
    is_quick: bool

    @property
    def label_on_left(self) -> bool:
        """Near the right edge the label goes left of its point, inside the chart."""
        return self.x > WIDTH * 0.75


def _plotted(rows: list[dict]) -> list[dict]:
    return [r for r in rows if r.get("accuracy") is not None and r.get("tokens") is not None]


def max_tokens_label(rows: list[dict]) -> int:
    """The x axis's end: a tenth past the most tokens any condition used."""
    return round(max((r["tokens"] for r in _plotted(rows)), default=0) * 1.1)


def accuracy_against_cost(rows: list[dict]) -> list[Point]:
    plotted = _plotted(rows)
    most = max_tokens_label(rows) or 1

    def y(share: float) -> float:
        return round(HEIGHT - share * HEIGHT, 1)

    points = []
    for row in plotted:
        low, high = row.get("interval") or (row["accuracy"], row["accuracy"])
        points.append(Point(row["condition"], round(row["tokens"] / most * WIDTH, 1), y(row["accuracy"]), y(low),
                            y(high), row["condition"] == "quick"))
    return points
