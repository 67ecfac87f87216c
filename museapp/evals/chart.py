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


def accuracy_against_cost(rows: list[dict]) -> list[Point]:
    plotted = [r for r in rows if r.get("accuracy") is not None and r.get("tokens") is not None]
    most = max((r["tokens"] for r in plotted), default=0) * 1.1 or 1

    def y(share: float) -> float:
        return round(HEIGHT - share * HEIGHT, 1)

    return [Point(r["condition"], round(r["tokens"] / most * WIDTH, 1), y(r["accuracy"]),
                  y((r.get("interval") or [r["accuracy"]] * 2)[0]), y((r.get("interval") or [r["accuracy"]] * 2)[1]),
                  r["condition"] == "quick")
            for r in plotted]


def max_tokens_label(rows: list[dict]) -> int:
    return round(max((r["tokens"] or 0 for r in rows if r.get("tokens") is not None), default=0) * 1.1)
