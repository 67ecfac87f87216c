"""Contemplation's runs as the reaper sees them (museapp/streams/reaper.py):
- an agent's draft: failed, keeping its partial draft; the contemplation
  settles, so the merge goes ahead without it;
- compare mode's quick answer: failed, which voids the comparison;
- an agent retried after its merge: failed, its slot given back;
- a merge: the answer ends as interrupted, keeping what it streamed;
- a contemplation whose agents all ended but whose merge was never claimed
  (the last agent's worker died in between): settled now.
"""

from __future__ import annotations

import logging
from datetime import datetime

from museapp.agents import settling
from museapp.agents.models import AgentRun, Contemplation
from museapp.agents.tasks import merge_abandon, settle
from museapp.chat.models import Message
from museapp.ops import loop
from museapp.streams import events, livetext, reaper, running
from museapp.streams.announce import announce, announce_ended
from museapp.streams.names import Stream

log = logging.getLogger(__name__)


def open_agents(queued_before: datetime) -> dict[int, Stream | None]:
    agents = AgentRun.objects.running().filter(kind__in=[AgentRun.Kind.AGENT, AgentRun.Kind.QUICK],
                                               started_at__lt=queued_before)
    return {pk: Stream.agent(pk) for pk in agents.values_list("pk", flat=True)}


def close_agent(run_id: int, stream: Stream | None) -> None:
    text, _ = loop.run(livetext.snapshot(Stream.agent(run_id)))
    run = settling.agent_interrupted(run_id=run_id, text=text)
    if run is None:
        return
    message = run.contemplation.message
    # An agent retried after its merge holds a slot of its person's own; for the others this releases nothing.
    loop.run(running.release(owner_id=message.conversation.user_id, stream=run.stream))
    loop.run(announce_ended(message.conversation_id, run.stream))
    if run.kind == AgentRun.Kind.QUICK or run.contemplation.has_ended:
        # A void comparison shows the answer as usual; a retried agent's answer offers "Merge again".
        log.warning("%s %s lost its worker; failed", run.role, run_id)
        loop.run(announce(message.conversation_id, events.message_changed(message.pk)))
        return
    log.warning("agent run %s lost its worker; failed, the merge goes on without it", run_id)
    settle(contemplation_id=run.contemplation_id)


def open_merges(queued_before: datetime) -> dict[int, Stream | None]:
    # A merge waiting in the queue holds a reserved lease, so no grace here.
    merging = Contemplation.objects.filter(status=Contemplation.Status.MERGING,
                                           message__status=Message.Status.STREAMING)
    return {pk: Stream.answer(message_id) for pk, message_id in merging.values_list("pk", "message_id")}


def close_merge(contemplation_id: int, stream: Stream | None) -> None:
    if merge_abandon(contemplation_id=contemplation_id) is not None:
        log.warning("the merge of contemplation %s lost its worker; closed as interrupted", contemplation_id)


def unsettled(queued_before: datetime) -> dict[int, Stream | None]:
    found = Contemplation.objects.filter(status=Contemplation.Status.THINKING, started_at__lt=queued_before).exclude(
        runs__status=AgentRun.Status.THINKING)
    return {pk: None for pk in found.values_list("pk", flat=True)}


def close_unsettled(contemplation_id: int, stream: Stream | None) -> None:
    log.warning("contemplation %s ended without a merge; settling it", contemplation_id)
    settle(contemplation_id=contemplation_id)


def register() -> None:
    reaper.register(reaper.RunKind("agent", open_agents, close_agent))
    reaper.register(reaper.RunKind("merge", open_merges, close_merge))
    reaper.register(reaper.RunKind("settle", unsettled, close_unsettled))
