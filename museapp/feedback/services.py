"""Ratings and best-draft picks: one click to rate, one more to explain; and
what a pick changes: a draft made a new version of the answer, or a
comparison's quick answer made the answer."""

from __future__ import annotations

from django.db import transaction
from django.http import Http404
from django.utils import timezone

from museapp.agents import selectors
from museapp.agents.models import AgentRun, Comparison, Contemplation
from museapp.chat import services as chat
from museapp.chat.models import Message
from museapp.chat.services import InvalidMessage
from museapp.turns import services as turns
from museapp.feedback.models import COMMENT_MAX, DOWN_REASONS, UP_REASONS, BestDraftPick, Rating


class InvalidFeedback(ValueError):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


BLIND = "Choose between the two answers first: until then, nothing says which one Muse contemplated."
MERGING_AGAIN = "Muse is merging the drafts again. Wait for the new answer, then choose."


def _rateable(message: Message) -> None:
    """A finished or stopped answer with no blind comparison pending."""
    if not message.is_assistant or message.status not in Rating.RATEABLE:
        raise InvalidFeedback("Only a finished or stopped answer can be rated.")
    _not_blind(message)


def _finished(message: Message) -> None:
    """A finished answer (a draft is picked or used only there) with no
    blind comparison pending."""
    if not message.is_assistant or message.status != Message.Status.DONE:
        raise InvalidFeedback("Only a finished answer's drafts can be picked.")
    _not_blind(message)


def _not_blind(message: Message) -> None:
    """A thumb or a draft picked or used before the choice would say which
    answer was contemplated, and change what the comparison records."""
    contemplation = Contemplation.objects.select_related("comparison__quick_run").filter(message=message).first()
    if contemplation is not None and contemplation.is_blind:
        raise InvalidFeedback(BLIND)


@transaction.atomic
def rating_toggle(*, user, message: Message, value: int) -> Rating | None:
    """Press a thumb: pressing the pressed one removes the rating, pressing
    the other switches it (and clears reasons that belonged to the old one)."""
    _rateable(message)
    if value not in (Rating.Value.UP, Rating.Value.DOWN):
        raise InvalidFeedback("A rating is thumbs up or thumbs down.")
    current = Rating.objects.select_for_update().filter(user=user, message=message).first()
    if current is not None and current.value == value:
        current.delete()
        return None
    if current is None:
        return Rating.objects.create(user=user, message=message, value=value)
    current.value, current.reasons, current.explained = value, [], False
    current.save(update_fields=["value", "reasons", "explained", "updated_at"])
    return current


def rating_explain(*, user, message: Message, reasons: list[str], comment: str) -> Rating:
    rating = Rating.objects.filter(user=user, message=message).first()
    if rating is None:
        raise InvalidFeedback("Rate the answer first.")
    allowed = UP_REASONS if rating.is_up else DOWN_REASONS
    unknown = [r for r in reasons if r not in allowed]
    if unknown:
        raise InvalidFeedback(f"Unknown reason: {unknown[0]}.")
    comment = (comment or "").strip()
    if len(comment) > COMMENT_MAX:
        raise InvalidFeedback(f"A comment can be at most {COMMENT_MAX:,} characters ({len(comment):,} given).")
    rating.reasons = [r for r in allowed if r in reasons]
    rating.comment = comment
    rating.explained = True
    rating.save(update_fields=["reasons", "comment", "explained", "updated_at"])
    return rating


def _draft_of(message: Message, run_id: object) -> AgentRun:
    try:
        return selectors.agent_run_of(message=message, run_id=run_id)
    except Http404:
        raise InvalidFeedback("That draft is not part of this answer.") from None


def best_draft_pick(*, user, message: Message, run_id: object) -> BestDraftPick:
    _finished(message)
    run = _draft_of(message, run_id)
    pick, _ = BestDraftPick.objects.update_or_create(user=user, message=message, defaults={"run": run})
    return pick


@transaction.atomic
def draft_use(*, user, message: Message, run_id: object) -> Message:
    """"Use this draft": a new version of the answer, the draft as written,
    recorded as the person's best-draft pick; the version before stays.
    Locked as "Merge again" locks (the conversation, then the
    contemplation), and the answer read afresh under the lock: a draft is
    never made the answer while a merge runs."""
    try:
        chat.conversation_lock(conversation=message.conversation)
    except InvalidMessage as refused:
        raise InvalidFeedback(refused.reason) from None
    contemplation = Contemplation.objects.select_for_update().filter(message_id=message.pk).first()
    if contemplation is not None and not contemplation.has_ended:
        raise InvalidFeedback(MERGING_AGAIN)
    message = Message.objects.get(pk=message.pk)
    _finished(message)
    run = _draft_of(message, run_id)
    if not run.text.strip():
        raise InvalidFeedback("That draft is empty.")
    BestDraftPick.objects.update_or_create(user=user, message=message, defaults={"run": run})
    try:
        return turns.answer_from_draft(message=message, draft_used=run.index, text=run.text)
    except InvalidMessage as refused:
        raise InvalidFeedback(refused.reason) from None


def _answer_replaced(*, contemplation_id: int, message: Message, text: str) -> None:
    """``text`` becomes the finished answer; the merge's own answer is kept
    on the contemplation the first time it is replaced."""
    Contemplation.objects.filter(pk=contemplation_id, merged_text="").update(merged_text=message.content)
    Message.objects.filter(pk=message.pk, status=Message.Status.DONE).update(content=text)


def comparison_record(*, comparison: Comparison, choice: str) -> Comparison:
    """Save a person's choice (inside the caller's transaction, the row
    locked) with what was compared as it stood. A preferred quick answer
    becomes the turn's answer (later turns read it); the merge's is kept."""
    contemplation = comparison.contemplation
    message = contemplation.message
    quick = comparison.quick_run
    judge = AgentRun.objects.filter(contemplation=contemplation, kind=AgentRun.Kind.MERGE).exclude(model="").first()
    comparison.choice, comparison.chosen_at = choice, timezone.now()
    comparison.contemplated_chars, comparison.quick_chars = len(message.content), len(quick.text)
    comparison.contemplated_tokens, comparison.quick_tokens = message.total_tokens, quick.total_tokens
    comparison.contemplated_cost, comparison.quick_cost = message.cost, quick.cost
    comparison.contemplated_ms, comparison.quick_ms = message.total_ms, quick.total_ms
    comparison.strategy = contemplation.strategy_used or contemplation.strategy
    comparison.agent_count, comparison.agreement = contemplation.agent_count, contemplation.agreement
    comparison.judge_model = judge.model if judge else ""
    comparison.save()
    if choice == Comparison.Choice.QUICK:
        _answer_replaced(contemplation_id=contemplation.pk, message=message, text=quick.text)
    return comparison


CHOICES = {"1": None, "2": None, "same": Comparison.Choice.SAME, "skip": Comparison.Choice.SKIPPED}


def comparison_choose(*, message: Message, choice: object) -> Comparison:
    """The person's verdict on a blind comparison: "1" or "2" (that answer
    is better), "same" or "skip". Once, when both answers are shown."""
    if choice not in CHOICES:
        raise InvalidFeedback("Choose Answer 1, Answer 2, About the same, or Skip.")
    with transaction.atomic():
        comparison = (Comparison.objects.select_for_update(of=("self",))
                      .select_related("contemplation__message", "quick_run")
                      .filter(contemplation__message=message).first())
        if comparison is None:
            raise InvalidFeedback("This answer has no comparison.")
        if comparison.is_chosen:
            raise InvalidFeedback("You have already chosen for this answer.")
        if comparison.contemplation.blind_state != "ready":
            raise InvalidFeedback("Both answers have to be ready before you choose.")
        verdict = CHOICES[choice] or comparison.choice_at(int(choice))
        return comparison_record(comparison=comparison, choice=verdict)
