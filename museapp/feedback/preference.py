"""Blind side-by-side comparisons: is the contemplated answer preferred over
the quick one, and is that only because it is longer?

``preference_share`` is the raw share with a Wilson interval and how many
more comparisons it would take to tell it from a coin toss.
``length_controlled`` fits a small logistic regression that separates three
things people's picks mix up: which side an answer was on, which answer was
contemplated, and how much longer one answer was. Both are pure Python (a
3x3 Newton fit needs no numpy) and are checked in
tests/feedback/test_preference.py, one fit against statsmodels.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import timedelta

from django.utils import timezone

from museapp.agents import strategies
from museapp.agents.models import Comparison
from museapp.chat.models import listed_filter
from museapp.feedback.insights import Z95, wilson
from museapp.llm.config import label_for

MIN_COMPARISONS = 10
# Below this distance from 50% the "how many more" estimate runs to thousands
# and is too unstable to print; the page says "many more" instead.
TOO_CLOSE_TO_HALF = 0.02
# An L2 penalty of 0.1 on every coefficient is a Gaussian prior with standard
# deviation 1/sqrt(0.1) ~ 3.2 on the log-odds scale: it weighs about as much
# as 0.4 comparisons (each carries 1/4 at 50%), so it leaves real samples
# alone, yet it keeps a small sample that is perfectly separated (the
# contemplated answer won all twelve) at a finite, if large, coefficient,
# and keeps the fit solvable when all lengths are equal. The intercept is
# penalised too: here it is the position bias, whose natural value is also
# 0, and it would run off to infinity if Answer 1 won every comparison.
RIDGE = 0.1
MAX_ITERATIONS = 50
TOLERANCE = 1e-8
_SCORE = {"contemplated": 1.0, "same": 0.5, "quick": 0.0}


@dataclass(frozen=True)
class Share:
    """How often the contemplated answer was preferred (ties count half)."""

    n: int
    rate: float
    interval: tuple[float, float]
    # Roughly how many more comparisons would make the interval exclude 50%
    # if the rate held; None when it already does, or when the rate is too
    # close to 50% to say (see ``many_more_needed``).
    more_needed: int | None

    @property
    def distinguishable(self) -> bool:
        low, high = self.interval
        return low > 0.5 or high < 0.5

    @property
    def many_more_needed(self) -> bool:
        return not self.distinguishable and self.more_needed is None


def preference_share(*, wins: int, losses: int, ties: int) -> Share | None:
    """The contemplated answer's share of the preferences. Skips are not
    preferences and are not passed in; a tie is half a win each way.

    The "more needed" estimate inverts the Wilson interval itself: that
    interval excludes 50% exactly when |p - 0.5| > z * sqrt(0.25 / n) (it is
    the score test's interval), so n = z^2 / (4 (p - 0.5)^2). The Wald form
    z^2 p(1-p) / (p - 0.5)^2 would promise a few too few for this interval.
    """
    n = wins + losses + ties
    if n == 0:
        return None
    preferred = wins + ties / 2
    rate = preferred / n
    share = Share(n=n, rate=rate, interval=wilson(preferred, n), more_needed=None)
    if share.distinguishable or abs(rate - 0.5) < TOO_CLOSE_TO_HALF:
        return share
    needed = math.ceil(Z95**2 / (4 * (rate - 0.5) ** 2))
    return replace(share, more_needed=max(needed - n, 1))


@dataclass(frozen=True)
class Fit:
    """Log-odds that Answer 1 is preferred = position + contemplated * d +
    length * x, where d is +1 when the contemplated answer was Answer 1 and
    -1 otherwise, and x = log(len(Answer 1) / len(Answer 2))."""

    n: int
    position: float
    contemplated: float
    length: float
    position_se: float
    contemplated_se: float
    length_se: float

    @property
    def preference(self) -> float:
        """The chance the contemplated answer is preferred when both answers
        are equally long and neither side is favoured."""
        return _sigmoid(self.contemplated)

    @property
    def interval(self) -> tuple[float, float]:
        margin = Z95 * self.contemplated_se
        return _sigmoid(self.contemplated - margin), _sigmoid(self.contemplated + margin)


def length_controlled(rows: Iterable, *, ridge: float = RIDGE) -> Fit | None:
    """Fit the preference for the contemplated answer with position and
    length held apart, because people tend to prefer Answer 1 and longer
    answers, and contemplated answers are usually longer.

    ``rows`` are objects (such as agents.Comparison) or tuples of
    (contemplated_position, choice, contemplated_chars, quick_chars); rows
    that are not a preference (skipped, or not chosen yet) are ignored.
    None when fewer than MIN_COMPARISONS preferences remain, or when there
    is no finite fit (possible only with ``ridge=0``: a separated or
    singular design).
    """
    comparisons = [_fields(row) for row in rows]
    data = [_observation(*fields) for fields in comparisons if fields[1] in _SCORE]
    if len(data) < MIN_COMPARISONS:
        return None
    solved = _newton(data, ridge)
    if solved is None:
        return None
    beta, covariance = solved
    position_se, contemplated_se, length_se = (math.sqrt(covariance[i][i]) for i in range(3))
    return Fit(len(data), *beta, position_se, contemplated_se, length_se)


def _fields(row) -> tuple:
    if isinstance(row, tuple):
        return row
    return row.contemplated_position, row.choice, row.contemplated_chars, row.quick_chars


def _observation(position: int, choice: str, contemplated_chars: int, quick_chars: int):
    """Features (1, d, x) and the score of Answer 1: 1 preferred, 0 not,
    1/2 for a tie. A tie is two half-weight observations, one each way,
    which adds to the likelihood's derivatives exactly what one observation
    with outcome 1/2 does."""
    score = _SCORE[choice]
    contemplated, quick = max(contemplated_chars, 1), max(quick_chars, 1)
    if position == 1:
        return (1.0, 1.0, math.log(contemplated / quick)), score
    return (1.0, -1.0, math.log(quick / contemplated)), 1 - score


def _newton(data: list, ridge: float) -> tuple[list[float], list[list[float]]] | None:
    """Newton-Raphson (IRLS) on the penalised log-likelihood; returns the
    coefficients and their covariance, the inverse of the penalised Hessian
    at the optimum. None if the Hessian is singular or it does not converge."""
    beta = [0.0, 0.0, 0.0]
    for _ in range(MAX_ITERATIONS):
        gradient, hessian = _derivatives(data, beta, ridge)
        inverse = _inverse(hessian)
        if inverse is None:
            return None
        step = [sum(a * g for a, g in zip(row, gradient)) for row in inverse]
        beta = [b + s for b, s in zip(beta, step)]
        if max(abs(s) for s in step) < TOLERANCE:
            covariance = _inverse(_derivatives(data, beta, ridge)[1])
            return (beta, covariance) if covariance is not None else None
    return None


def _derivatives(data: list, beta: list[float], ridge: float) -> tuple[list[float], list[list[float]]]:
    """Gradient of the penalised log-likelihood and its negative Hessian."""
    gradient = [-ridge * b for b in beta]
    hessian = [[ridge * (i == j) for j in range(3)] for i in range(3)]
    for features, score in data:
        p = _sigmoid(sum(b * f for b, f in zip(beta, features)))
        weight = p * (1 - p)
        for i in range(3):
            gradient[i] += (score - p) * features[i]
            for j in range(3):
                hessian[i][j] += weight * features[i] * features[j]
    return gradient, hessian


def _inverse(matrix: list[list[float]]) -> list[list[float]] | None:
    """Gauss-Jordan with partial pivoting; None when (nearly) singular."""
    size = len(matrix)
    floor = 1e-12 * max(abs(matrix[i][i]) for i in range(size))
    rows = [list(row) + [float(i == j) for j in range(size)] for i, row in enumerate(matrix)]
    for column in range(size):
        pivot = max(range(column, size), key=lambda r: abs(rows[r][column]))
        if abs(rows[pivot][column]) <= floor:
            return None
        rows[column], rows[pivot] = rows[pivot], rows[column]
        rows[column] = [value / rows[column][column] for value in rows[column]]
        for r in range(size):
            if r != column:
                factor = rows[r][column]
                rows[r] = [a - factor * b for a, b in zip(rows[r], rows[column])]
    return [row[size:] for row in rows]


def _sigmoid(z: float) -> float:
    if z >= 0:
        return 1 / (1 + math.exp(-z))
    e = math.exp(z)
    return e / (1 + e)


# --- blind comparisons ------------------------------------------------------
# Paired, on the same question, so free of what confounds the thumbs tables
# (people contemplate harder questions). Aggregated in Python: one query of
# a few numbers per chosen comparison.

COMPARED_FIELDS = ["contemplated_position", "choice", "contemplated_chars", "quick_chars", "contemplated_tokens",
                   "quick_tokens", "contemplated_cost", "quick_cost", "contemplated_ms", "quick_ms", "strategy",
                   "agent_count", "agreement", "judge_model"]


@dataclass
class ComparedRow:
    """One split of the blind comparisons: the contemplated answer's wins,
    losses and ties against the quick one, and what it cost over it."""

    label: str
    wins: int = 0
    losses: int = 0
    ties: int = 0
    skipped: int = 0
    extra: dict = field(default_factory=lambda: {"tokens": [], "cost": [], "seconds": []})

    def add(self, item: dict) -> None:
        if item["choice"] == Comparison.Choice.SKIPPED:
            self.skipped += 1
            return
        self.wins += item["choice"] == Comparison.Choice.CONTEMPLATED
        self.losses += item["choice"] == Comparison.Choice.QUICK
        self.ties += item["choice"] == Comparison.Choice.SAME
        for name, (mine, theirs, scale) in {"tokens": ("contemplated_tokens", "quick_tokens", 1),
                                             "cost": ("contemplated_cost", "quick_cost", 1),
                                             "seconds": ("contemplated_ms", "quick_ms", 1000)}.items():
            if item[mine] is not None and item[theirs] is not None:
                self.extra[name].append(float(item[mine] - item[theirs]) / scale)

    @property
    def share(self) -> Share | None:
        return preference_share(wins=self.wins, losses=self.losses, ties=self.ties)

    def mean_extra(self, name: str) -> float | None:
        values = self.extra[name]
        return sum(values) / len(values) if values else None

    @property
    def extra_tokens(self) -> float | None:
        return self.mean_extra("tokens")

    @property
    def extra_cost(self) -> float | None:
        return self.mean_extra("cost")

    @property
    def extra_seconds(self) -> float | None:
        return self.mean_extra("seconds")


def agreement_level(item: dict) -> str:
    agreement, count = item["agreement"], item["agent_count"]
    if agreement is None or not count:
        return "Agreement not counted"
    if agreement >= count:
        return "All drafts agree"
    return "Most drafts agree" if agreement * 2 > count else "Drafts split"


COMPARISON_SPLITS = {
    "By merge strategy": lambda item: strategies.label_of(item["strategy"]),
    "By number of agents": lambda item: f"{item['agent_count']} agents",
    "By agreement": agreement_level,
    "By judge model": lambda item: label_for(item["judge_model"]) if item["judge_model"]
    else strategies.NO_JUDGE,
}


def comparisons(days: int | None) -> dict:
    """The blind comparisons chosen in the last ``days`` (None: ever): all,
    each split, and the length-controlled estimate over all of them."""
    chosen = Comparison.objects.exclude(choice="").filter(contemplation__message__conversation__is_evaluation=False)
    chosen = chosen.filter(listed_filter("contemplation__message__conversation__"))
    if days:
        chosen = chosen.filter(chosen_at__gte=timezone.now() - timedelta(days=days))
    items = list(chosen.order_by("pk").values(*COMPARED_FIELDS))
    overall = ComparedRow("All blind comparisons")
    splits: dict[str, dict[str, ComparedRow]] = {title: {} for title in COMPARISON_SPLITS}
    for item in items:
        overall.add(item)
        for title, label_of in COMPARISON_SPLITS.items():
            label = label_of(item)
            splits[title].setdefault(label, ComparedRow(label)).add(item)
    fit = length_controlled([(i["contemplated_position"], i["choice"], i["contemplated_chars"] or 0,
                              i["quick_chars"] or 0) for i in items])
    return {"overall": overall, "fit": fit,
            "splits": [(title, sorted(rows.values(), key=lambda row: row.label)) for title, rows in splits.items()]}
