"""Conversations and turns: the business logic, free of sockets and workers."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from museapp.chat.models import Conversation, Message
from museapp.llm.adapter import ModelCall
from museapp.llm.config import available_models, configured_model, model_call

TITLE_LENGTH = 60
NO_MODEL_REASON = (
    "No language model is configured. Set MUSE_MODEL (for example "
    "openai/gpt-4o-mini with OPENAI_API_KEY, or an OpenAI-compatible server with "
    "MUSE_API_BASE), then restart Muse and press Retry."
)


class InvalidMessage(ValueError):
    """The person's input cannot be accepted; ``reason`` says why."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass
class Turn:
    """A user message, the assistant answer it started, and what to run: one
    model call, or a contemplation's agents (neither when the answer failed
    before any call, e.g. no model)."""

    user_message: Message | None
    assistant_message: Message
    call: ModelCall | None
    title_changed: bool = False
    contemplation: object | None = None  # museapp.agents.services.ContemplationStart


@dataclass
class ReplyOutcome:
    text: str
    status: str
    error: str = ""
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cost: float | None = None
    ttft_ms: float | None = None
    total_ms: float | None = None


# --- conversations ----------------------------------------------------------


def conversation_list(*, user) -> list[Conversation]:
    return list(Conversation.objects.filter(user=user).only("id", "title", "updated_at"))


def conversation_open_new(*, user) -> Conversation:
    """Open a fresh chat, reusing an untouched one instead of piling them up."""
    empty = (
        Conversation.objects.filter(user=user)
        .exclude(Exists(Message.objects.filter(conversation=OuterRef("pk"))))
        .first()
    )
    return empty or Conversation.objects.create(user=user)


def conversation_rename(*, conversation: Conversation, title: str) -> Conversation:
    title = " ".join(title.split())[:200]
    if not title:
        raise InvalidMessage("A title cannot be empty.")
    conversation.title = title
    conversation.save(update_fields=["title", "updated_at"])
    return conversation


def conversation_pick_model(*, conversation: Conversation, model: str) -> Conversation:
    if not any(choice.id == model for choice in available_models()):
        raise InvalidMessage("That model is not on offer here.")
    conversation.model = model
    conversation.save(update_fields=["model", "updated_at"])
    return conversation


def conversation_delete(*, conversation: Conversation) -> None:
    conversation.delete()


def conversation_messages(*, conversation: Conversation) -> list[Message]:
    return list(Message.objects.filter(conversation=conversation).for_display())


# --- turns -----------------------------------------------------------------


def message_clean_text(text: object) -> str:
    if not isinstance(text, str):
        raise InvalidMessage("The message must be text.")
    if "\x00" in text:  # PostgreSQL cannot store it in a text column
        raise InvalidMessage("The message contains a null character (U+0000); remove it and send again.")
    text = text.strip()
    if not text:
        raise InvalidMessage("Type a message first: an empty message cannot be sent.")
    if len(text) > settings.MUSE_MAX_MESSAGE_CHARS:
        raise InvalidMessage(
            f"That message is {len(text):,} characters long; the limit is "
            f"{settings.MUSE_MAX_MESSAGE_CHARS:,}. Shorten it or split it up."
        )
    return text


def model_context(*, conversation: Conversation) -> list[dict[str, str]]:
    """The messages sent to the model: the system prompt, then every finished
    turn so far. Failed or empty answers are left out."""
    context = [{"role": "system", "content": settings.MUSE_SYSTEM_PROMPT}]
    rows = conversation.messages.exclude(status=Message.Status.STREAMING).values_list(
        "author", "content", "status"
    )
    for author, content, status in rows:
        if author == Message.Author.ASSISTANT and (status == Message.Status.ERROR or not content):
            continue
        context.append({"role": author, "content": content})
    return context


@transaction.atomic
def turn_start(*, conversation: Conversation, text: object, contemplate: bool = False,
               strategy: str = "") -> Turn:
    """Save the person's message and an answer placeholder in one transaction
    (with the agents' rows when contemplating). The switch and the strategy
    are remembered on the conversation.

    The caller starts the model calls (``turn_enqueue``) once this commits.
    """
    text = message_clean_text(text)
    conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
    if conversation.messages.filter(status=Message.Status.STREAMING).exists():
        raise InvalidMessage("Muse is still answering. Wait for it, or press Stop first.")
    title_changed = False
    if not conversation.title:
        conversation.title = _title_from(text)
        title_changed = True
    conversation.contemplate = bool(contemplate)
    if strategy:
        conversation.merge_strategy = _clean_strategy(strategy)
    conversation.save(update_fields=["title", "contemplate", "merge_strategy", "updated_at"])

    user_message = Message.objects.create(
        conversation=conversation, author=Message.Author.USER, content=text
    )
    assistant = _assistant_placeholder(conversation)
    return _turn(conversation, user_message, assistant, title_changed, contemplate=conversation.contemplate)


def conversation_set_preferences(*, conversation: Conversation, contemplate: bool | None = None,
                                 strategy: str | None = None) -> Conversation:
    """The Contemplating switch and the merge menu, remembered per conversation."""
    if contemplate is not None:
        conversation.contemplate = contemplate
    if strategy is not None:
        conversation.merge_strategy = _clean_strategy(strategy)
    conversation.save(update_fields=["contemplate", "merge_strategy", "updated_at"])
    return conversation


def _clean_strategy(strategy: object) -> str:
    from museapp.agents.services import STRATEGIES

    if strategy not in STRATEGIES:
        raise InvalidMessage("Unknown merge strategy: choose synthesize, vote or select.")
    return strategy


def _turn(conversation: Conversation, user_message: Message | None, assistant: Message,
          title_changed: bool = False, *, contemplate: bool) -> Turn:
    if not assistant.is_streaming:
        return Turn(user_message, assistant, None, title_changed)
    context = model_context(conversation=conversation)
    if contemplate:
        from museapp.agents.services import contemplation_start

        start = contemplation_start(conversation=conversation, answer=assistant, context=context)
        return Turn(user_message, assistant, None, title_changed, contemplation=start)
    return Turn(user_message, assistant, model_call(model=assistant.model, messages=context), title_changed)


@transaction.atomic
def reply_retry(*, message: Message) -> Turn:
    """Run a failed or stopped answer again, in place."""
    if not message.is_assistant or message.status not in (
        Message.Status.ERROR,
        Message.Status.STOPPED,
    ):
        raise InvalidMessage("Only a failed or stopped answer can be retried.")
    conversation = Conversation.objects.select_for_update().get(pk=message.conversation_id)
    if conversation.messages.filter(status=Message.Status.STREAMING).exists():
        raise InvalidMessage("Muse is still answering. Wait for it, or press Stop first.")
    if conversation.messages.filter(pk__gt=message.pk).exists():
        raise InvalidMessage("Only the latest answer can be retried.")
    model = configured_model(conversation.model)
    Message.objects.filter(pk=message.pk).update(
        status=Message.Status.STREAMING if model else Message.Status.ERROR,
        content="",
        error="" if model else NO_MODEL_REASON,
        model=model,
        prompt_tokens=None,
        completion_tokens=None,
        cost=None,
        ttft_ms=None,
        total_ms=None,
        finished_at=None if model else timezone.now(),
    )
    message.refresh_from_db()
    from museapp.agents.models import Contemplation

    # A retry runs the answer the way it first ran; a contemplation starts afresh.
    contemplated, _ = Contemplation.objects.filter(message=message).delete()
    return _turn(conversation, None, message, contemplate=bool(contemplated))


def turn_enqueue(turn: Turn) -> None:
    """Hand the model call to a worker (after the turn's rows are committed)."""
    from museapp.chat.tasks import generate_reply

    if turn.contemplation is not None:
        from museapp.agents.tasks import start

        start(turn.contemplation, conversation_id=turn.assistant_message.conversation_id)
        return
    if turn.call is None:
        return
    generate_reply.delay(
        message_id=turn.assistant_message.pk,
        conversation_id=turn.assistant_message.conversation_id,
        call=turn.call.as_dict(),
    )


def reply_finish(*, message_id: int, outcome: ReplyOutcome) -> bool:
    """Save a finished answer. Only a streaming answer is updated, so a late
    duplicate delivery of the same task cannot overwrite a final one."""
    updated = Message.objects.filter(pk=message_id, status=Message.Status.STREAMING).update(
        content=outcome.text,
        status=outcome.status,
        error=outcome.error,
        prompt_tokens=outcome.prompt_tokens,
        completion_tokens=outcome.completion_tokens,
        cost=None if outcome.cost is None else Decimal(str(round(outcome.cost, 8))),
        ttft_ms=outcome.ttft_ms,
        total_ms=outcome.total_ms,
        finished_at=timezone.now(),
    )
    return bool(updated)


INTERRUPTED_REASON = "Interrupted: the worker writing this answer stopped before it finished."


def reply_interrupted(*, message_id: int, text: str) -> Message | None:
    """Close an answer whose worker died (museapp/ops/reaper.py), keeping
    what was streamed; None if it had ended meanwhile."""
    updated = Message.objects.filter(pk=message_id, status=Message.Status.STREAMING).update(
        content=text, status=Message.Status.ERROR, error=INTERRUPTED_REASON, finished_at=timezone.now()
    )
    return Message.objects.filter(pk=message_id).first() if updated else None


def _assistant_placeholder(conversation: Conversation) -> Message:
    model = configured_model(conversation.model)
    if not model:
        return Message.objects.create(
            conversation=conversation,
            author=Message.Author.ASSISTANT,
            status=Message.Status.ERROR,
            error=NO_MODEL_REASON,
            finished_at=timezone.now(),
        )
    return Message.objects.create(
        conversation=conversation,
        author=Message.Author.ASSISTANT,
        status=Message.Status.STREAMING,
        model=model,
    )


def _title_from(text: str) -> str:
    line = " ".join(text.split())
    if len(line) <= TITLE_LENGTH:
        return line
    return line[: TITLE_LENGTH - 1].rsplit(" ", 1)[0].rstrip() + "…"
