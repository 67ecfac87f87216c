"""The database reads of contemplation for the chat page and its socket."""

from __future__ import annotations

from django.http import Http404

from museapp.agents.models import AgentRun
from museapp.chat.access import parse_id
from museapp.chat.models import Conversation, Message
from museapp.streams.names import Stream


def agent_run_of(*, run_id: object, message: Message | None = None, conversation: Conversation | None = None,
                 for_update: bool = False) -> AgentRun:
    """The one way to load an agent's run for a person: one of the agents
    of an answer (or a conversation) already loaded for them through
    museapp/chat/access.py, by an id from a form, a frame or an event, with
    what its panel shows (whether it is blind). A malformed id, another
    answer's agent, a merge's row or a comparison's quick answer (no agent:
    it never has a panel) is Http404."""
    runs = AgentRun.objects.filter(kind=AgentRun.Kind.AGENT)
    runs = runs.filter(contemplation__message=message) if message else runs.filter(
        contemplation__message__conversation=conversation)
    runs = runs.select_for_update(of=("self",)) if for_update else runs.select_related(
        "contemplation__comparison__quick_run")
    run = runs.filter(pk=parse_id(run_id)).first()
    if run is None:
        raise Http404("No such agent.")
    return run


def drafting_agent_streams(*, message: Message | None = None,
                           conversation: Conversation | None = None) -> list[Stream]:
    """The streams of the answer's (or the whole conversation's) agents still drafting."""
    runs = AgentRun.objects.running()
    runs = runs.filter(contemplation__message=message) if message else runs.filter(
        contemplation__message__conversation=conversation)
    return [Stream.agent(pk) for pk in runs.values_list("pk", flat=True)]
