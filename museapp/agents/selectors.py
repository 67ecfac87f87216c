"""The database reads of contemplation for the chat page and its socket."""

from __future__ import annotations

from museapp.agents.models import AgentRun
from museapp.chat.models import Conversation, Message
from museapp.streams.names import Stream


def agent_run_in(*, conversation: Conversation, run_id: int) -> AgentRun | None:
    return AgentRun.objects.filter(pk=run_id, contemplation__message__conversation=conversation).first()


def drafting_agent_streams(*, message: Message) -> list[Stream]:
    """The streams of the answer's agents still drafting."""
    runs = AgentRun.objects.running().filter(contemplation__message=message)
    return [Stream.agent(pk) for pk in runs.values_list("pk", flat=True)]
