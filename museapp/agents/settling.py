"""Settling a contemplation as its agents end: each draft saved (or its
failure), the agents a settled majority no longer needs stopped, and the one
caller that may start the merge chosen; and the runs whose worker died
(museapp/agents/reaping.py) closed."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field, replace

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from museapp.agents import merge, strategies
from museapp.agents.models import AgentRun, Contemplation
from museapp.chat.models import INTERRUPTED_REASON, Message
from museapp.streams.names import Stream
from museapp.streams.run import StreamResult, StreamStatus

log = logging.getLogger(__name__)


def agent_finish(*, run_id: int, result: StreamResult) -> None:
    """Save an agent's draft. One stopped because a quorum had finished is
    cut off (the merge went on without it), not stopped by the person."""
    runs = AgentRun.objects.filter(pk=run_id)
    if result.status == StreamStatus.STOPPED and runs.filter(
            contemplation__early_stop=Contemplation.EarlyStop.QUORUM).exists():
        result = replace(result, status=StreamStatus.CUT_OFF)
    runs.finish_stream(result)


def quick_finish(*, run_id: int, result: StreamResult) -> None:
    """Save compare mode's quick answer (shown once the merge is done too)."""
    AgentRun.objects.filter(pk=run_id, kind=AgentRun.Kind.QUICK).finish_stream(result)


def agent_fail(*, run_id: int, reason: str) -> None:
    AgentRun.objects.filter(pk=run_id).interrupt(reason=reason)


AGENT_INTERRUPTED = "Interrupted: the worker running this agent stopped."


def agent_interrupted(*, run_id: int, text: str) -> AgentRun | None:
    """An agent whose worker died (museapp/agents/reaping.py): failed,
    keeping its partial draft; None if it had ended meanwhile."""
    if not AgentRun.objects.filter(pk=run_id).interrupt(reason=AGENT_INTERRUPTED, text=text):
        return None
    return AgentRun.objects.select_related("contemplation__message__conversation").get(pk=run_id)


def agent_is_running(*, run_id: int) -> bool:
    return AgentRun.objects.filter(pk=run_id).running().exists()


def merge_stream(*, contemplation_id: int) -> Stream | None:
    """The answer's stream the merge writes to; None once it is deleted."""
    message_id = Contemplation.objects.filter(pk=contemplation_id).values_list("message_id", flat=True).first()
    return Stream.answer(message_id) if message_id else None


@transaction.atomic
def merge_interrupted(*, contemplation_id: int, reason: str = INTERRUPTED_REASON,
                      text: str | None = None) -> Message | None:
    """A merge that cannot go on (its worker died, its plan failed): the
    answer ends failed with ``reason``, keeping ``text``, what it streamed, as
    a quick answer does (Retry runs the whole contemplation again). None if
    it had ended meanwhile, or is gone."""
    contemplation = (Contemplation.objects.select_for_update().select_related("message__conversation")
                     .filter(pk=contemplation_id).first())
    if contemplation is None or not Message.objects.filter(pk=contemplation.message_id).interrupt(
            reason=reason, text=text):
        return None
    Contemplation.objects.filter(pk=contemplation_id).update(
        status=Contemplation.Status.FAILED, finished_at=timezone.now()
    )
    return contemplation.message


@dataclass
class Settlement:
    """What to do after an agent ended: stop agents a vote no longer needs,
    and whether this caller won the right to start the merge."""

    stop_streams: list[Stream] = field(default_factory=list)
    merge: bool = False
    message_id: int | None = None


@transaction.atomic
def contemplation_settle(*, contemplation_id: int) -> Settlement:
    # The row lock makes agents that finish together settle one after the
    # other, so the last one sees every draft (and agreement is noticed).
    contemplation = Contemplation.objects.select_for_update().get(pk=contemplation_id)
    runs = list(contemplation.runs.filter(kind=AgentRun.Kind.AGENT))
    thinking = [r for r in runs if r.is_running]
    settlement = Settlement(message_id=contemplation.message_id)
    already_stopping = bool(contemplation.early_stop)
    reason = "" if not thinking or already_stopping else early_stop_reason(
        runs, quorum=contemplation.quorum, weighed=_weighs_confidence(contemplation.strategy))
    if reason:
        Contemplation.objects.filter(pk=contemplation_id).update(early_stop=reason)
        settlement.stop_streams = [r.stream for r in thinking]
        log.info("contemplation %s: stopping %d agent(s) early (%s)", contemplation_id, len(thinking), reason)
    if not thinking:
        settlement.merge = merge_claim(contemplation_id=contemplation_id)
    return settlement


def _weighs_confidence(strategy: str) -> bool:
    chosen = strategies.STRATEGIES.get(strategy)
    return chosen is not None and chosen.weighs_confidence


def early_stop_reason(runs: list[AgentRun], *, quorum: int = 0, weighed: bool = False) -> str:
    """Why the agents still drafting are no longer needed, or "": the
    finished drafts' majority answer is locked (those still running cannot
    overturn it; ``weighed``: by the drafts' confidences, as the confidence
    merge counts them), or a quorum of drafts has finished."""
    done = [r for r in runs if r.status == AgentRun.Status.DONE]
    thinking = sum(r.is_running for r in runs)
    answers = {r.index: merge.short_answer(r.text) for r in done}
    weights = ({r.index: math.exp(r.confidence) for r in done}
               if weighed and all(r.confidence is not None for r in done) else None)
    if settings.MUSE_AGREEMENT_STOP and merge.locked_majority(answers, thinking, weights) is not None:
        return Contemplation.EarlyStop.AGREEMENT
    if 0 < quorum <= len(done):
        return Contemplation.EarlyStop.QUORUM
    return ""


def merge_claim(*, contemplation_id: int) -> bool:
    """Exactly one caller wins: the merge runs once however agents race."""
    return bool(
        Contemplation.objects.filter(pk=contemplation_id, status=Contemplation.Status.THINKING)
        .update(status=Contemplation.Status.MERGING)
    )
