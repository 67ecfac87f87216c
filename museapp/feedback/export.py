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
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator

from museapp.agents.models import AgentRun, Comparison
from museapp.chat.models import Message
from museapp.feedback.models import BestDraftPick, Rating

ROW_FIELDS = [
    "message_id", "created_at", "prompt", "answer", "mode", "strategy", "models", "prompt_tokens",
    "completion_tokens", "cost", "latency_ms", "rating", "reasons", "comment",
]
PAIR_FIELDS = ["message_id", "prompt", "chosen", "rejected", "reason", "source"]
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def feedback_rows() -> Iterator[dict]:
    ratings = Rating.objects.select_related("message", "message__contemplation").order_by("pk")
    for rating in ratings.iterator(chunk_size=500):
        message = rating.message
        contemplation = message.contemplation_or_none
        models = sorted(set(contemplation.runs.values_list("model", flat=True))) if contemplation else [message.model]
        yield {
            "message_id": message.pk,
            "created_at": message.created_at.isoformat(),
            "prompt": message.question_text(),
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


def reasons_given() -> dict[int, str]:
    """Each rated answer's reasons and comment, as one line."""
    rated = Rating.objects.exclude(reasons=[], comment="").values_list("message_id", "reasons", "comment")
    return {message_id: ": ".join(part for part in (", ".join(reasons), comment) if part)
            for message_id, reasons, comment in rated}


def preference_pairs() -> Iterator[dict]:
    reasons = reasons_given()
    yield from comparison_pairs(reasons)
    for pair in draft_pairs():
        pair["reason"] = reasons.get(pair["message_id"], "")
        yield {name: pair[name] for name in PAIR_FIELDS}


def comparison_pairs(reasons: dict[int, str]) -> Iterator[dict]:
    """The preferred answer of each blind comparison over the other one."""
    preferred = (Comparison.objects.filter(choice__in=[Comparison.Choice.CONTEMPLATED, Comparison.Choice.QUICK])
                 .select_related("contemplation__message", "quick_run").order_by("pk"))
    for comparison in preferred.iterator(chunk_size=200):
        message = comparison.contemplation.message
        contemplated = comparison.contemplation.merged_text or message.content
        quick = comparison.quick_run.text
        chosen, rejected = ((contemplated, quick) if comparison.choice == Comparison.Choice.CONTEMPLATED
                            else (quick, contemplated))
        yield {"message_id": message.pk, "prompt": message.question_text(), "chosen": chosen, "rejected": rejected,
               "reason": reasons.get(message.pk, ""), "source": "blind_comparison"}


def draft_pairs() -> Iterator[dict]:
    picked = {p.message_id: p.run_id for p in BestDraftPick.objects.all()}
    liked = set(Rating.objects.filter(value=Rating.Value.UP).values_list("message_id", flat=True))
    messages = Message.objects.filter(pk__in=set(picked) | liked, contemplation__isnull=False)
    for message in messages.select_related("contemplation").order_by("pk"):
        drafts = [r for r in message.contemplation.runs.filter(kind=AgentRun.Kind.AGENT) if r.text.strip()]
        prompt = message.question_text()
        if message.pk in picked:
            chosen = next((d for d in drafts if d.pk == picked[message.pk]), None)
            if chosen is None:
                continue
            rejected, source = [d for d in drafts if d.pk != chosen.pk], "best_draft"
            chosen_text = chosen.text
        else:
            relied = set(message.contemplation.relied_on or [])
            rejected, source = [d for d in drafts if d.index not in relied], "thumbs_up_vs_passed_over"
            chosen_text = message.content
        for draft in rejected:
            if draft.text.strip() != chosen_text.strip():
                yield {"message_id": message.pk, "prompt": prompt, "chosen": chosen_text,
                       "rejected": draft.text, "source": source}


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
