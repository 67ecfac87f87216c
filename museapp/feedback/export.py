"""Rated answers and preference pairs, for analysis and training.

Rows: one per rated answer, with the prompt (the question it answered), the
answer, mode, strategy, models, tokens, cost, latency, rating, reasons and
comment. Pairs: (prompt, chosen, rejected, reason, source), best first:
blind comparisons (the answer the person preferred over the other, not knowing
which was contemplated; ties and skips give no pair), then contemplated
answers, where chosen is the person's best-draft pick, or else a thumbed-up
final answer, and rejected is each draft the person (or the merge) passed
over. The reason is what the person said when rating the answer, if anything.

CSV is opened in spreadsheets, which run a cell starting with = + - or @ as a
formula (and may skip a leading tab or carriage return to find one), so every
text cell starting with one of those six gets a leading ' (OWASP's advice on
CSV injection). JSON Lines is data and keeps the raw text.

Exports grow with every rating, so they are built as they are sent: a fixed
number of queries whatever the number of rows, each read through a cursor a
chunk at a time (a server-side cursor on PostgreSQL). What a row needs from
other tables is joined into its query, or read from a second query sorted the
same way, alongside it (`SortedGroups`); nothing holds the whole export.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator, Iterable, Iterator

from django.db.models import Exists, F, OuterRef, Q, QuerySet, Subquery

from museapp.agents.models import AgentRun, Comparison
from museapp.chat.models import Message, listed_filter
from museapp.feedback.models import BestDraftPick, Rating
from museapp.ops.streaming import in_parts

ROW_FIELDS = [
    "message_id", "created_at", "prompt", "answer", "mode", "strategy", "models", "prompt_tokens",
    "completion_tokens", "cost", "latency_ms", "rating", "reasons", "comment",
]
PAIR_FIELDS = ["message_id", "prompt", "chosen", "rejected", "reason", "source"]
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CHUNK = 1000  # rows a cursor fetches per round trip


class SortedGroups:
    """A query's (key, item) rows sorted by key, handed out one key at a time
    to a loop over another query sorted by the same key (a merge join): each
    row's related items cost no query of their own, and memory for one key's."""

    def __init__(self, rows: Iterable[tuple[int, object]]):
        self._rows = iter(rows)
        self._next = next(self._rows, None)

    def take(self, key: int) -> list:
        """The items for ``key``; ask for keys in ascending order."""
        items = []
        while self._next is not None and self._next[0] <= key:
            if self._next[0] == key:
                items.append(self._next[1])
            self._next = next(self._rows, None)
        return items


def kept_ratings() -> QuerySet:
    """Ratings of answers in conversations people keep (not temporary chats)."""
    return Rating.objects.filter(listed_filter("message__conversation__"))


def feedback_rows() -> Iterator[dict]:
    ratings = (kept_ratings().select_related("message__contemplation")
               .annotate(prompt=F("message__parent__content")).order_by("pk"))
    # Every model a contemplated answer's runs used, per rating, in the ratings' order.
    run_models = SortedGroups(kept_ratings().filter(message__contemplation__isnull=False).order_by("pk")
                              .values_list("pk", "message__contemplation__runs__model").iterator(CHUNK))
    for rating in ratings.iterator(CHUNK):
        yield feedback_row(rating, run_models.take(rating.pk))


def feedback_row(rating: Rating, run_models: list[str | None]) -> dict:
    message = rating.message
    contemplation = message.contemplation_or_none
    models = sorted({m for m in run_models if m}) if contemplation else [message.model]
    return {
        "message_id": message.pk,
        "created_at": message.created_at.isoformat(),
        "prompt": rating.prompt or "",
        "answer": message.content,
        "mode": "contemplating" if contemplation else "quick",
        "strategy": (contemplation.strategy_used or contemplation.strategy) if contemplation else "",
        "models": [m for m in models if m],
        "prompt_tokens": message.prompt_tokens,
        "completion_tokens": message.completion_tokens,
        "cost": float(message.cost) if message.cost is not None else None,
        "latency_ms": message.total_ms,
        "rating": "up" if rating.is_up else "down",
        "reasons": rating.reasons,
        "comment": rating.comment,
    }


def with_reason(queryset: QuerySet, message: str) -> QuerySet:
    """``queryset`` with the reasons and comment of the latest rating that
    gave any on the answer its field ``message`` points to."""
    given = (Rating.objects.filter(message=OuterRef(message)).exclude(reasons=[], comment="")
             .order_by("-pk"))
    return queryset.annotate(given_reasons=Subquery(given.values("reasons")[:1]),
                             given_comment=Subquery(given.values("comment")[:1]))


def reason_text(row) -> str:
    """A rated answer's reasons and comment, as one line."""
    return ": ".join(part for part in (", ".join(row.given_reasons or []), row.given_comment or "") if part)


def preference_pairs() -> Iterator[dict]:
    yield from comparison_pairs()
    yield from draft_pairs()


def comparison_pairs() -> Iterator[dict]:
    """The preferred answer of each blind comparison over the other one."""
    preferred = (Comparison.objects.filter(listed_filter("contemplation__message__conversation__"),
                                           choice__in=[Comparison.Choice.CONTEMPLATED, Comparison.Choice.QUICK])
                 .select_related("contemplation__message", "quick_run")
                 .annotate(prompt=F("contemplation__message__parent__content")).order_by("pk"))
    for comparison in with_reason(preferred, "contemplation__message").iterator(CHUNK):
        message = comparison.contemplation.message
        contemplated = comparison.contemplation.merged_text or message.content
        quick = comparison.quick_run.text
        chosen, rejected = ((contemplated, quick) if comparison.choice == Comparison.Choice.CONTEMPLATED
                            else (quick, contemplated))
        yield {"message_id": message.pk, "prompt": comparison.prompt or "", "chosen": chosen, "rejected": rejected,
               "reason": reason_text(comparison), "source": "blind_comparison"}


def drafted_answers() -> QuerySet:
    """Contemplated answers with a best-draft pick (the latest one counts)
    or a thumbs up: the answers whose drafts make pairs."""
    latest_pick = BestDraftPick.objects.filter(message=OuterRef("pk")).order_by("-pk").values("run_id")[:1]
    liked = Rating.objects.filter(message=OuterRef("pk"), value=Rating.Value.UP)
    finished = Q(status=Message.Status.DONE)  # a stopped answer, liked, is still cut short: no pair's chosen
    return (Message.objects.filter(listed_filter("conversation__"), contemplation__isnull=False)
            .annotate(picked_run=Subquery(latest_pick))
            .filter(Q(picked_run__isnull=False) | (Exists(liked) & finished)))


def draft_pairs() -> Iterator[dict]:
    drafted = drafted_answers()
    runs = (AgentRun.objects.filter(kind=AgentRun.Kind.AGENT, contemplation__message__in=drafted.values("pk"))
            .annotate(message_id=F("contemplation__message_id")).order_by("message_id", "index", "pk"))
    drafts = SortedGroups((run.message_id, run) for run in runs.iterator(CHUNK))
    answers = with_reason(drafted.select_related("contemplation").annotate(prompt=F("parent__content")), "pk")
    for message in answers.order_by("pk").iterator(CHUNK):
        yield from answer_draft_pairs(message, [d for d in drafts.take(message.pk) if d.text.strip()])


def answer_draft_pairs(message: Message, drafts: list[AgentRun]) -> Iterator[dict]:
    """Chosen is the person's best-draft pick, or else the thumbed-up answer;
    rejected, each draft passed over (by the person, or else by the merge)."""
    if message.picked_run is not None:
        chosen = next((d for d in drafts if d.pk == message.picked_run), None)
        if chosen is None:
            return
        rejected, source, chosen_text = [d for d in drafts if d.pk != chosen.pk], "best_draft", chosen.text
    else:
        relied = set(message.contemplation.relied_on or [])
        rejected, source = [d for d in drafts if d.index not in relied], "thumbs_up_vs_passed_over"
        chosen_text = message.content
    for draft in rejected:
        if draft.text.strip() != chosen_text.strip():
            yield {"message_id": message.pk, "prompt": message.prompt or "", "chosen": chosen_text,
                   "rejected": draft.text, "reason": reason_text(message), "source": source}


def csv_cell(value: object) -> object:
    """A value as a CSV cell a spreadsheet shows as text: lists as JSON, and
    any text that could start a formula prefixed with '. Numbers stay numbers."""
    if isinstance(value, list):
        value = json.dumps(value)
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def export_lines(*, fmt: str, pairs: bool = False) -> Iterator[str]:
    """The export as lines of JSON Lines or CSV: what `manage.py export_feedback`
    writes and the insights page's download streams."""
    rows = preference_pairs() if pairs else feedback_rows()
    if fmt == "jsonl":
        for row in rows:
            yield json.dumps(row, ensure_ascii=False) + "\n"
        return
    fields = PAIR_FIELDS if pairs else ROW_FIELDS
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=fields)
    writer.writeheader()
    for row in rows:
        writer.writerow({key: csv_cell(value) for key, value in row.items()})
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()


def export_parts(*, fmt: str, pairs: bool = False) -> AsyncIterator[str]:
    """The export for an ASGI server, a part of many lines at a time
    (museapp/ops/streaming.py). Django's ASGI handler would read a plain
    iterator whole before sending any of it."""
    return in_parts(export_lines(fmt=fmt, pairs=pairs))
