"""The evaluation's statistics: a proportion's interval, a paired difference's
interval and test, percentiles.

Small and written here, not scipy or statsmodels (about 100 MB for three
formulas): the Wilson interval is the insights page's own
(museapp/feedback/insights.py), the bootstrap is seeded so a report is
reproducible, and McNemar's exact test is a binomial tail. Each is checked
against known values in tests/evals/test_stats.py.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence

from museapp.feedback.insights import interpolated, wilson

__all__ = ["mcnemar_p", "paired_interval", "percentile", "wilson"]

RESAMPLES = 2000


def paired_interval(differences: Sequence[int], *, seed: int = 0, level: float = 0.95) -> tuple[float, float] | None:
    """Percentile-bootstrap interval of the mean of paired differences
    (per problem: condition right minus quick right, each -1, 0 or 1)."""
    n = len(differences)
    if n == 0:
        return None
    rng = random.Random(seed)
    means = sorted(sum(rng.choices(differences, k=n)) / n for _ in range(RESAMPLES))
    tail = (1 - level) / 2
    return interpolated(means, tail), interpolated(means, 1 - tail)


def mcnemar_p(only_first: int, only_second: int) -> float:
    """Exact two-sided McNemar test: of the problems exactly one side got
    right, are the splits ``only_first`` / ``only_second`` a fair coin's?"""
    discordant = only_first + only_second
    if discordant == 0:
        return 1.0
    low = min(only_first, only_second)
    tail = sum(math.comb(discordant, k) for k in range(low + 1)) / 2**discordant
    return min(1.0, 2 * tail)


def percentile(values: Sequence[float], p: float) -> float | None:
    """As PostgreSQL's percentile_cont: linear between closest ranks."""
    ordered = sorted(v for v in values if v is not None)
    return interpolated(ordered, p) if ordered else None
