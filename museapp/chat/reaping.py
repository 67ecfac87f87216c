"""Quick answers as the reaper sees them (museapp/streams/reaper.py): an
answer whose worker died ends as interrupted, with what was streamed and a
Retry button."""

from __future__ import annotations

import logging
from datetime import datetime

from museapp.chat import services
from museapp.chat.models import Message
from museapp.ops import loop
from museapp.streams import livetext, reaper, running
from museapp.streams.announce import announce_ended
from museapp.streams.names import Stream

log = logging.getLogger(__name__)


def open_answers(queued_before: datetime) -> dict[int, Stream | None]:
    # A contemplated answer is its agents' and its merge's to close
    # (museapp/agents/reaping.py).
    answers = Message.objects.running().filter(
        author=Message.Author.ASSISTANT, created_at__lt=queued_before, contemplation__isnull=True
    )
    return {pk: Stream.answer(pk) for pk in answers.values_list("pk", flat=True)}


def close_answer(message_id: int, stream: Stream | None) -> None:
    text, _ = loop.run(livetext.snapshot(Stream.answer(message_id)))
    message = services.answer_interrupted(message_id=message_id, text=text)
    if message is not None:
        log.warning("answer %s lost its worker; closed as interrupted", message_id)
        loop.run(running.release(owner_id=message.conversation.user_id, stream=message.stream))
        loop.run(announce_ended(message.conversation_id, message.stream))


def register() -> None:
    reaper.register(reaper.RunKind("answer", open_answers, close_answer))
