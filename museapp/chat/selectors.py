"""The database reads of the chat page and its socket."""

from __future__ import annotations

from museapp.chat import branches
from museapp.chat.models import Conversation, Message


def messages_for_display(*, conversation: Conversation):
    return Message.objects.filter(conversation=conversation).for_display()


def message_for_display(*, conversation: Conversation, message_id: int) -> Message | None:
    """One message, with its versions, as the partial shows it."""
    message = messages_for_display(conversation=conversation).filter(pk=message_id).first()
    return branches.with_versions([message])[0] if message else None


def messages_by_ids(*, conversation: Conversation, ids: list[int]) -> list[Message]:
    return branches.with_versions(list(messages_for_display(conversation=conversation).filter(
        pk__in=[i for i in ids if i])))


def has_running(message: Message) -> bool:
    """The answer, or one of its agents, is still running: what a page
    shows of it depends on that page's catch-up."""
    contemplation = message.contemplation_or_none
    runs = contemplation.agent_runs if contemplation else []
    return message.is_running or any(run.is_running for run in runs)


def answers_to_catch_up(*, conversation: Conversation) -> list[Message]:
    """The answers of the branch shown still streaming, and its latest
    answer (it may have ended while a page was disconnected)."""
    shown = branches.shown(conversation)
    answers = messages_for_display(conversation=conversation).filter(author=Message.Author.ASSISTANT, pk__in=shown)
    found = list(answers.filter(status=Message.Status.STREAMING))
    latest = answers.order_by("-id").first()
    if latest is not None and latest not in found:
        found.append(latest)
    return branches.with_versions(found)
