"""Celery tasks for contemplation: thin wrappers over museapp/agents/services.

Agents never raise: a failure is saved on the agent's row, so the merge always
runs. The merge starts when the last agent settles (the first caller to claim
it wins). Agents whose worker died are closed by the reaper
(museapp/ops/reaper.py), which settles their contemplation.
"""

from celery import shared_task

from museapp.agents import services
from museapp.chat import events, leases, stopping, streaming
from museapp.llm.adapter import ModelCall
from museapp.ops import loop


@shared_task(name="muse.run_agent")
def run_agent(*, run_id: int, contemplation_id: int, conversation_id: int, call: dict, deadline: float) -> str:
    stream = events.agent_stream(run_id)
    if not loop.run(leases.claim(stream)):
        return "skipped"  # a redelivery of a run that ended, or that another worker holds
    try:
        result = loop.run(services.agent_run(run_id=run_id, conversation_id=conversation_id,
                                             call=ModelCall(**call), deadline=deadline))
        services.agent_finish(run_id=run_id, result=result)
        status = result.status
    except Exception as exc:  # noqa: BLE001 - an agent must never block the merge
        services.agent_fail(run_id=run_id, reason=f"The agent crashed ({type(exc).__name__}).")
        status = "error"
    finally:
        loop.run(leases.release(stream))
    loop.run(streaming.announce(conversation_id, events.agent_changed(run_id),
                                finished_streams=(events.agent_stream(run_id),)))
    settle(contemplation_id=contemplation_id)
    return status


def settle(*, contemplation_id: int) -> None:
    try:
        settlement = services.contemplation_settle(contemplation_id=contemplation_id)
    except services.Contemplation.DoesNotExist:
        return  # deleted meanwhile (its conversation was deleted)
    if settlement.stop_streams:
        loop.run(stopping.request_stop(*settlement.stop_streams))
    if settlement.merge:
        enqueue_merge(contemplation_id=contemplation_id, message_id=settlement.message_id)


def enqueue_merge(*, contemplation_id: int, message_id: int) -> None:
    # Covered while it waits in the queue, so the reaper leaves it alone.
    loop.run(leases.reserve(events.message_stream(message_id)))
    merge_contemplation.delay(contemplation_id=contemplation_id)


@shared_task(name="muse.merge_contemplation")
def merge_contemplation(*, contemplation_id: int) -> str:
    plan = services.merge_plan(contemplation_id=contemplation_id)
    stream = events.message_stream(plan.message_id)
    if not loop.run(leases.claim(stream)):
        return "skipped"  # a redelivery of a merge that ended, or that another worker holds
    # The pages collapse the agents' panels and show the answer streaming.
    loop.run(streaming.announce(plan.conversation_id, events.message_changed(plan.message_id)))
    try:
        try:
            result = loop.run(services.merge_run(plan))
        except Exception as exc:  # noqa: BLE001 - the answer must end, not hang
            result = services.MergeResult("", "error", error=f"The merge failed ({type(exc).__name__}).")
        services.merge_finish(plan=plan, result=result)
    finally:
        loop.run(leases.release(stream))
    loop.run(streaming.announce_changed(conversation_id=plan.conversation_id, message_id=plan.message_id))
    return result.status


def start(plan: services.ContemplationStart, conversation_id: int) -> None:
    """Start every agent at once (a Celery group)."""
    from celery import group

    contemplation_id = plan.contemplation.pk
    group(
        run_agent.s(run_id=job.run_id, contemplation_id=contemplation_id, conversation_id=conversation_id,
                    call=job.call.as_dict(), deadline=plan.deadline)
        for job in plan.jobs
    ).apply_async()
