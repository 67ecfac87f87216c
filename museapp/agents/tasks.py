"""Celery tasks for contemplation: thin wrappers over museapp/agents/services.

Agents never raise: a failure is saved on the agent's row, so the merge always
runs. The merge starts when the last agent settles (the first caller to claim
it wins). Agents whose worker died are closed by the reaper
(museapp/agents/reaping.py), which settles their contemplation.
"""

from dataclasses import replace

from celery import group, shared_task

from museapp.agents import services
from museapp.agents.models import Contemplation
from museapp.chat.context import call_in_context
from museapp.ops import loop
from museapp.streams import events, leases, running, stopping
from museapp.streams.announce import announce
from museapp.streams.leased import SKIPPED, run_leased
from museapp.streams.names import Stream
from museapp.streams.run import StreamStatus, run_stream


@shared_task(name="muse.run_agent")
def run_agent(*, run_id: int, contemplation_id: int, conversation_id: int, message_id: int, role: str,
              call: dict, deadline: float) -> str:
    stream = Stream.agent(run_id)

    def work() -> str:
        try:
            model_call = call_in_context(call, conversation_id=conversation_id, before_id=message_id)
            model_call = replace(model_call, messages=services.agent_messages(role=role, context=model_call.messages,
                                                                               model=model_call.model))
            result = loop.run(run_stream(stream=stream, conversation_id=conversation_id, call=model_call,
                                         deadline=deadline))
        except Exception as exc:  # noqa: BLE001 - an agent must never block the merge
            services.agent_fail(run_id=run_id, reason=f"The agent crashed ({type(exc).__name__}).")
            return StreamStatus.ERROR
        services.agent_finish(run_id=run_id, result=result)
        return result.status

    status = run_leased(stream, conversation_id=conversation_id, work=work)
    if status != SKIPPED:
        settle(contemplation_id=contemplation_id)
    return status


def settle(*, contemplation_id: int) -> None:
    try:
        settlement = services.contemplation_settle(contemplation_id=contemplation_id)
    except Contemplation.DoesNotExist:
        return  # deleted meanwhile (its conversation was deleted)
    if settlement.stop_streams:
        loop.run(stopping.request_stop(*settlement.stop_streams))
    if settlement.merge:
        # Covered while it waits in the queue, so the reaper leaves it alone.
        loop.run(leases.reserve(Stream.answer(settlement.message_id)))
        run_merge.delay(contemplation_id=contemplation_id)


@shared_task(name="muse.run_merge")
def run_merge(*, contemplation_id: int) -> str:
    plan = services.merge_plan(contemplation_id=contemplation_id)

    def work() -> str:
        # The pages collapse the agents' panels and show the answer streaming.
        loop.run(announce(plan.conversation_id, events.message_changed(plan.message_id)))
        try:
            result = loop.run(services.merge_run(plan))
        except Exception as exc:  # noqa: BLE001 - the answer must end, not hang
            result = services.MergeResult("", StreamStatus.ERROR, error=f"The merge failed ({type(exc).__name__}).")
        try:
            services.merge_finish(plan=plan, result=result)
        finally:
            loop.run(running.release(owner_id=plan.owner_id, stream=plan.stream))
        return result.status

    return run_leased(plan.stream, conversation_id=plan.conversation_id, work=work)


def agent_task_arguments(start: services.ContemplationStart, *, conversation_id: int) -> list[dict]:
    return [{"run_id": job.run_id, "contemplation_id": start.contemplation.pk, "conversation_id": conversation_id,
             "message_id": start.contemplation.message_id, "role": job.role, "call": job.call.as_dict(),
             "deadline": start.deadline} for job in start.jobs]


def start_agents(start: services.ContemplationStart, *, conversation_id: int) -> None:
    """Start every agent at once (a Celery group)."""
    group(run_agent.s(**arguments) for arguments in agent_task_arguments(start, conversation_id=conversation_id)
          ).apply_async()
