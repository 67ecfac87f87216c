"""Contemplation's runs as the reaper sees them (museapp/streams/reaper.py):
- an agent's draft: failed, keeping its partial draft; the contemplation
  settles, so the merge goes ahead without it;
- compare mode's quick answer: failed, which voids the comparison;
- a merge: the answer ends as interrupted;
- a contemplation whose agents all ended but whose merge was never claimed
  (the last agent's worker died in between): settled now.
"""

from __future__ import annotations

import logging
from datetime import datetime

from museapp.agents import settling
from museapp.agents.models import AgentRun, Contemplation
from museapp.agents.tasks import settle
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
    conversation_id = run.contemplation.message.conversation_id
    loop.run(announce_ended(conversation_id, run.stream))
    if run.kind == AgentRun.Kind.QUICK:  # the comparison is void: the answer shows as usual
        log.warning("compare mode's quick answer %s lost its worker; failed", run_id)
        loop.run(announce(conversation_id, events.message_changed(run.contemplation.message_id)))
        return
    log.warning("agent run %s lost its worker; failed, the merge goes on without it", run_id)
    settle(contemplation_id=run.contemplation_id)


def open_merges(queued_before: datetime) -> dict[int, Stream | None]:
    # A merge waiting in the queue holds a reserved lease, so no grace here.
    merging = Contemplation.objects.filter(status=Contemplation.Status.MERGING,
                                           message__status=Message.Status.STREAMING)
    return {pk: Stream.answer(message_id) for pk, message_id in merging.values_list("pk", "message_id")}


def close_merge(contemplation_id: int, stream: Stream | None) -> None:
    message = settling.merge_interrupted(contemplation_id=contemplation_id)
    if message is not None:
        log.warning("the merge of contemplation %s lost its worker; closed as interrupted", contemplation_id)
        loop.run(running.release(owner_id=message.conversation.user_id, stream=message.stream))
        loop.run(announce_ended(message.conversation_id, message.stream))


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
