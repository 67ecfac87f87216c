"""The database reads of contemplation for the chat page and its socket."""

from __future__ import annotations

from museapp.agents.models import AgentRun
from museapp.chat.models import Conversation, Message
from museapp.streams.names import Stream


def agent_run_in(*, conversation: Conversation, run_id: int) -> AgentRun | None:
    """An agent's run, with what its panel shows (whether it is blind). A
    comparison's quick answer is no agent: it never has a panel."""
    runs = AgentRun.objects.filter(pk=run_id, kind=AgentRun.Kind.AGENT,
                                   contemplation__message__conversation=conversation)
    return runs.select_related("contemplation__comparison__quick_run").first()


def drafting_agent_streams(*, message: Message | None = None,
                           conversation: Conversation | None = None) -> list[Stream]:
    """The streams of the answer's (or the whole conversation's) agents still drafting."""
    runs = AgentRun.objects.running()
    runs = runs.filter(contemplation__message=message) if message else runs.filter(
        contemplation__message__conversation=conversation)
    return [Stream.agent(pk) for pk in runs.values_list("pk", flat=True)]
