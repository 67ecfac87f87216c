"""Does contemplating pay off? Ratings, latency and cost, quick versus
contemplating, by merge strategy and by number of agents.

Counts, sums and means are SQL aggregates; medians and p95s are SQL too
(PostgreSQL's percentile_cont; on SQLite an aggregate registered on each
connection, see museapp/feedback/apps.py). Confidence intervals are Wilson
score intervals computed from the counts.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta

from django.db import connection
from django.db.models import Aggregate, Avg, Case, CharField, Count, F, IntegerField, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Substr, TruncDate
from django.utils import timezone

from museapp.agents import strategies
from museapp.agents.models import AgentRun
from museapp.chat.models import Message, listed_filter
from museapp.llm.config import label_for as model_label
from museapp.feedback.models import Rating

Z95 = 1.959963984540054


class Percentiles(Aggregate):
    """The p50 and p95 of an expression, computed by the database in one
    pass, as the text "p50 p95" (parsed by ``split_percentiles``)."""

    output_field = CharField()

    def as_sql(self, compiler, conn, **extra_context):
        sql, params = compiler.compile(self.source_expressions[0])
        if conn.vendor == "postgresql":
            return (f"concat_ws(' ', percentile_cont(0.5) WITHIN GROUP (ORDER BY {sql}), "
                    f"percentile_cont(0.95) WITHIN GROUP (ORDER BY {sql}))"), (*params, *params)
        return f"muse_percentiles({sql})", params


def split_percentiles(text: str | None) -> tuple[float | None, float | None]:
    parts = (text or "").split()
    return (float(parts[0]), float(parts[1])) if len(parts) == 2 else (None, None)


def interpolated(values: list[float], p: float) -> float:
    """Linear interpolation between closest ranks, as percentile_cont."""
    position = (len(values) - 1) * p
    low = math.floor(position)
    high = min(low + 1, len(values) - 1)
    return values[low] + (values[high] - values[low]) * (position - low)


class SQLitePercentiles:
    """sqlite3 aggregate muse_percentiles(value) -> "p50 p95"."""

    def __init__(self):
        self.values: list[float] = []
        self.step = self.values.append  # one C-level call per row

    def finalize(self):
        values = sorted(v for v in self.values if v is not None)
        if not values:
            return None
        return f"{interpolated(values, 0.5)!r} {interpolated(values, 0.95)!r}"


def wilson(ups: int, n: int) -> tuple[float, float] | None:
    if n == 0:
        return None
    phat = ups / n
    denominator = 1 + Z95**2 / n
    centre = (phat + Z95**2 / (2 * n)) / denominator
    margin = Z95 * math.sqrt(phat * (1 - phat) / n + Z95**2 / (4 * n * n)) / denominator
    return max(0.0, centre - margin), min(1.0, centre + margin)


@dataclass
class Row:
    label: str
    answers: int
    rated: int
    ups: int
    p50_ms: float | None
    p95_ms: float | None
    mean_cost: float | None

    @property
    def rate(self) -> float | None:
        return self.ups / self.rated if self.rated else None

    @property
    def interval(self) -> tuple[float, float] | None:
        return wilson(self.ups, self.rated)

    @property
    def rate_per_cent(self) -> float | None:
        """Thumbs-up rate per US cent spent per answer."""
        if self.rate is None or not self.mean_cost:
            return None
        return self.rate / (self.mean_cost * 100)


def answers_since(since):
    """People's finished and stopped answers, the ones they can rate (an
    evaluation's are not people's, and a temporary chat's are not kept)."""
    answers = Message.objects.filter(listed_filter("conversation__"), author=Message.Author.ASSISTANT,
                                     status__in=Rating.RATEABLE, conversation__is_evaluation=False)
    return answers.filter(created_at__gte=since) if since else answers


def _rows(queryset, key: str, label) -> list[Row]:
    # One query per split. Only a conversation's owner can rate its answers
    # (museapp/chat/access.py), and once (a unique constraint), so joining
    # ratings repeats no answer and needs no DISTINCT.
    stats = (
        queryset.values(key)
        .annotate(
            answers=Count("id"),
            rated=Count("ratings"),
            ups=Count("ratings", filter=Q(ratings__value=Rating.Value.UP)),
            mean_cost=Avg("cost"),
            # A stopped answer's time is how long the person waited, not how
            # long an answer takes: latency is the finished answers'.
            latency=Percentiles(Case(When(status=Message.Status.DONE, then=F("total_ms")))),
        )
        .order_by(key)
    )
    return [
        Row(label(item[key]), item["answers"], item["rated"], item["ups"], *split_percentiles(item["latency"]),
            float(item["mean_cost"]) if item["mean_cost"] is not None else None)
        for item in stats
    ]


def report(days: int | None) -> dict:
    since = timezone.now() - timedelta(days=days) if days else None
    answers = answers_since(since).annotate(
        mode=Case(When(contemplation__isnull=False, then=Value(1)), default=Value(0), output_field=IntegerField()),
        strategy=F("contemplation__strategy"),
        agents=F("contemplation__agent_count"),
        judge=Subquery(AgentRun.objects.filter(contemplation=OuterRef("contemplation"), kind=AgentRun.Kind.MERGE)
                       .values("model")[:1]),
        degraded=Case(When(Q(contemplation__drafts_failed__gt=0) | Q(contemplation__drafts_cut_off__gt=0),
                           then=Value(1)), default=Value(0), output_field=IntegerField()),
    )
    contemplated = answers.filter(contemplation__isnull=False)
    ratings = Rating.objects.filter(listed_filter("message__conversation__"))
    ratings = ratings.filter(created_at__gte=since) if since else ratings
    daily = (
        ratings.annotate(
            day=_day("created_at"),
            contemplated=Case(When(message__contemplation__isnull=False, then=Value(1)), default=Value(0),
                              output_field=IntegerField()),
        )
        .values("day", "contemplated")
        .annotate(n=Count("id"), ups=Count("id", filter=Q(value=Rating.Value.UP)))
        .order_by("day")
    )
    return _concurrently({
        "modes": lambda: _rows(answers, "mode", lambda m: "Contemplating" if m else "Quick"),
        "strategies": lambda: _rows(contemplated, "strategy", strategies.label_of),
        "agent_counts": lambda: _rows(contemplated, "agents", lambda n: f"{n} agents"),
        "judges": lambda: _rows(contemplated, "judge", lambda model: model_label(model) if model else
                                strategies.NO_JUDGE),
        "completeness": lambda: _rows(contemplated, "degraded",
                                      lambda d: "Drafts lost (failed or cut off)" if d else "Every draft merged"),
        "daily": lambda: _daily(daily),
        "comments": lambda: list(
            ratings.exclude(comment="").select_related("message", "user").order_by("-created_at")[:10]
        ),
    })


def _concurrently(queries: dict) -> dict:
    """Run the independent queries at once, each on its own connection: the
    database does them in parallel and the page waits for the slowest, not
    the sum. Inside a transaction (whose uncommitted rows other connections
    cannot see) they run one after the other."""
    if connection.in_atomic_block:
        return {name: query() for name, query in queries.items()}

    def run(query):
        try:
            return query()
        finally:
            connection.close()  # this thread's own connection (back to the pool)

    with ThreadPoolExecutor(max_workers=len(queries), thread_name_prefix="insights") as pool:
        futures = {name: pool.submit(run, query) for name, query in queries.items()}
        return {name: future.result() for name, future in futures.items()}


def _day(field: str):
    """The UTC date of a timestamp. On SQLite, Django's TruncDate calls a
    Python function per row; the stored text's first ten characters are the
    same date (timestamps are stored in UTC)."""
    if connection.vendor == "sqlite":
        return Substr(field, 1, 10)
    return TruncDate(field)


def _daily(rows) -> list[dict]:
    days: dict = {}
    for row in rows:
        slot = days.setdefault(row["day"], {"day": row["day"]})
        mode = "contemplating" if row["contemplated"] else "quick"
        slot[mode] = (row["ups"] or 0) / row["n"] if row["n"] else None
        slot[f"{mode}_n"] = row["n"]
    return [days[day] for day in sorted(days)]


def register_sqlite_functions(sender, connection, **kwargs) -> None:
    if connection.vendor == "sqlite":
        connection.connection.create_aggregate("muse_percentiles", 1, SQLitePercentiles)


def chart_dots(daily: list[dict], mode: str, width: int = 600, height: int = 160) -> list[tuple[str, str]]:
    """(x, y) of one mode's daily thumbs-up rate, each day a dot: a line
    alone would draw nothing for a single day."""
    step = width / max(len(daily) - 1, 1)
    return [(f"{index * step:.1f}", f"{height - day[mode] * height:.1f}")
            for index, day in enumerate(daily) if day.get(mode) is not None]


def chart_points(daily: list[dict], mode: str, width: int = 600, height: int = 160) -> str:
    """SVG polyline points for one mode's daily thumbs-up rate."""
    return " ".join(f"{x},{y}" for x, y in chart_dots(daily, mode, width, height))


