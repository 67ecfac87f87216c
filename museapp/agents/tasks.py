"""Celery tasks for contemplation: thin wrappers over museapp/agents/starting.py,
settling.py and merging.py.

Agents never raise: a failure is saved on the agent's row, so the merge always
runs. The merge starts when the last agent settles (the first caller to claim
it wins). Agents whose worker died are closed by the reaper
(museapp/agents/reaping.py), which settles their contemplation.
"""

import logging
import time
from dataclasses import replace

from celery import group, shared_task
from django.conf import settings

from museapp.agents import merging, settling, starting
from museapp.agents.models import Contemplation
from museapp.chat.models import Message
from museapp.chat.context import call_in_context
from museapp.ops import loop
from museapp.ops.outage import through_outage
from museapp.ops.workers import hand_on
from museapp.streams import events, leases, livetext, running, stopping
from museapp.streams.announce import announce, announce_ended
from museapp.streams.leased import SKIPPED, run_leased
from museapp.streams.names import Stream
from museapp.streams.run import StreamResult, StreamStatus, run_stream

log = logging.getLogger(__name__)


@shared_task(name="muse.run_agent")
def run_agent(*, run_id: int, contemplation_id: int, conversation_id: int, message_id: int, role: str,
              call: dict, deadline: float, retried_by: int = 0, blind: bool = False) -> str:
    """One agent's draft. ``retried_by``: the person who pressed "Retry this
    agent" after the merge (their slot is released at the end, and the
    answer re-rendered so that "Merge again" is offered). ``blind``: the
    turn is a blind comparison, so the pages get the draft's progress, never
    its text."""
    stream = Stream.agent(run_id)

    def work() -> str:
        result = _streamed(run_id=run_id, conversation_id=conversation_id, message_id=message_id, call=call,
                           deadline=deadline, role=role, crashed="The agent crashed", show_text=not blind)
        if result is None:
            return StreamStatus.ERROR
        through_outage(settling.agent_finish, run_id=run_id, result=result)
        return result.status

    status = run_leased(stream, conversation_id=conversation_id, work=work)
    if retried_by:
        # A redelivery skipped here may find the agent ended by the reaper: nothing else will release it.
        if status != SKIPPED or not settling.agent_is_running(run_id=run_id):
            loop.run(running.release(owner_id=retried_by, stream=stream))
        if status != SKIPPED:
            loop.run(announce(conversation_id, events.message_changed(message_id)))
    elif status != SKIPPED:
        settle(contemplation_id=contemplation_id)
    return status


def _streamed(*, run_id: int, conversation_id: int, message_id: int, call: dict, deadline: float, crashed: str,
              role: str = "", publish: bool = True, show_text: bool = True) -> StreamResult | None:
    """One of a contemplation's calls, on the conversation so far (with an
    agent's role prompt, given ``role``); None, saved as failed with
    ``crashed`` as the reason, when it raised: it must never block the merge."""
    try:
        model_call = call_in_context(call, conversation_id=conversation_id, before_id=message_id)
        if role:
            model_call = replace(model_call, messages=starting.agent_messages(
                role=role, context=model_call.messages, model=model_call.model))
        return loop.run(run_stream(stream=Stream.agent(run_id), conversation_id=conversation_id, call=model_call,
                                   deadline=deadline, publish=publish, show_text=show_text))
    except Exception:  # noqa: BLE001 - saved as failed; the merge goes on without it
        log.exception("agent run %s crashed", run_id)  # the class and traceback are for staff, not the page
        settling.agent_fail(run_id=run_id, reason=f"{crashed}. Try again.")
        return None


def settle(*, contemplation_id: int) -> None:
    try:
        settlement = through_outage(settling.contemplation_settle, contemplation_id=contemplation_id)
    except Contemplation.DoesNotExist:
        return  # deleted meanwhile (its conversation was deleted)
    if settlement.stop_streams:
        loop.run(stopping.request_stop(*settlement.stop_streams))
    if settlement.merge:
        # Covered while it waits in the queue, so the reaper leaves it alone;
        # a hand-off that waited for the broker renews that cover once queued.
        stream = Stream.answer(settlement.message_id)
        loop.run(leases.reserve(stream))
        if hand_on(run_merge, contemplation_id=contemplation_id):
            loop.run(leases.requeued(stream))


@shared_task(name="muse.run_merge")
def run_merge(*, contemplation_id: int) -> str:
    try:
        plan = through_outage(merging.merge_plan, contemplation_id=contemplation_id)
    except Contemplation.DoesNotExist:
        return SKIPPED  # its conversation was deleted, which gave its slot back
    except Exception:  # noqa: BLE001 - the answer must end, and its slot be given back
        log.exception("the merge of contemplation %s could not be planned", contemplation_id)
        merge_abandon(contemplation_id=contemplation_id, reason="The merge failed. Try again.")
        return StreamStatus.ERROR

    def work() -> str:
        # The pages collapse the agents' panels and show the answer streaming.
        loop.run(announce(plan.conversation_id, events.message_changed(plan.message_id)))
        try:
            result = loop.run(merging.merge_run(plan))
        except Exception:  # noqa: BLE001 - the answer must end, not hang
            log.exception("the merge of contemplation %s crashed", contemplation_id)
            result = merging.MergeResult("", StreamStatus.ERROR, error="The merge failed. Try again.")
        try:
            through_outage(merging.merge_finish, plan=plan, result=result)
        finally:
            loop.run(running.release(owner_id=plan.owner_id, stream=plan.stream))
        return result.status

    return run_leased(plan.stream, conversation_id=plan.conversation_id, work=work)


def merge_abandon(*, contemplation_id: int, reason: str = settling.INTERRUPTED_REASON) -> Message | None:
    """End a merge that cannot go on (its worker died, its plan failed):
    the answer keeps what it streamed, failed with ``reason``; its slot is
    given back and the pages re-render it. None if it had ended already."""
    stream = settling.merge_stream(contemplation_id=contemplation_id)
    text = loop.run(livetext.snapshot(stream))[0] if stream else None
    message = settling.merge_interrupted(contemplation_id=contemplation_id, reason=reason, text=text)
    if message is not None:
        loop.run(running.release(owner_id=message.conversation.user_id, stream=message.stream))
        loop.run(announce_ended(message.conversation_id, message.stream))
    return message


@shared_task(name="muse.run_quick_answer")
def run_quick_answer(*, run_id: int, conversation_id: int, message_id: int, call: dict, deadline: float) -> str:
    """Compare mode's quick answer, beside the agents: the call quick mode
    makes, published to no page (it is shown beside the merged answer, blind,
    once both are done: the page re-renders the answer then)."""
    stream = Stream.agent(run_id)

    def work() -> str:
        result = _streamed(run_id=run_id, conversation_id=conversation_id, message_id=message_id, call=call,
                           deadline=deadline, publish=False, crashed="The quick answer crashed")
        if result is None:
            return StreamStatus.ERROR
        through_outage(settling.quick_finish, run_id=run_id, result=result)
        return result.status

    status = run_leased(stream, conversation_id=conversation_id, work=work)
    if status != SKIPPED:
        loop.run(announce(conversation_id, events.message_changed(message_id)))
    return status


def agent_task_arguments(start: starting.ContemplationStart, *, conversation_id: int) -> list[dict]:
    """Every agent's task arguments, then the quick answer's (when compared)."""
    message_id = start.contemplation.message_id
    arguments = [{"run_id": job.run_id, "contemplation_id": start.contemplation.pk, "conversation_id": conversation_id,
                  "message_id": message_id, "role": job.role, "call": job.call.as_dict(),
                  "deadline": start.deadline, "blind": start.quick is not None} for job in start.jobs]
    if start.quick is not None:
        arguments.append({"run_id": start.quick.run_id, "conversation_id": conversation_id, "message_id": message_id,
                          "call": start.quick.call.as_dict(), "deadline": time.time() + settings.MUSE_ANSWER_DEADLINE})
    return arguments


def start_agents(start: starting.ContemplationStart, *, conversation_id: int) -> None:
    """Start every agent, and the quick answer of a comparison, at once (a Celery group)."""
    arguments = agent_task_arguments(start, conversation_id=conversation_id)
    agents = [run_agent.s(**each) for each in arguments[:len(start.jobs)]]
    quick = [run_quick_answer.s(**each) for each in arguments[len(start.jobs):]]
    group(agents + quick).apply_async()


def start_agent_retry(job: starting.AgentJob, *, contemplation: Contemplation, owner_id: int) -> None:
    """Run one agent again, after its contemplation was merged."""
    run_agent.delay(run_id=job.run_id, contemplation_id=contemplation.pk,
                    conversation_id=contemplation.message.conversation_id, message_id=contemplation.message_id,
                    role=job.role, call=job.call.as_dict(), deadline=time.time() + contemplation.deadline_s,
                    retried_by=owner_id)
