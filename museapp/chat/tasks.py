"""Celery tasks for chat: thin wrappers that run a service on the worker's
event loop and save the result."""

from celery import shared_task

from museapp.chat import events, leases, services, streaming
from museapp.llm.adapter import ModelCall
from museapp.ops import loop


@shared_task(name="muse.generate_reply")
def generate_reply(*, message_id: int, conversation_id: int, call: dict) -> str:
    stream = events.message_stream(message_id)
    if not loop.run(leases.claim(stream)):
        return "skipped"  # a redelivery of a run that ended, or that another worker holds
    try:
        outcome = loop.run(
            streaming.stream_reply(
                message_id=message_id, conversation_id=conversation_id, call=ModelCall(**call)
            )
        )
        services.reply_finish(message_id=message_id, outcome=outcome)
    finally:
        loop.run(leases.release(stream))
    loop.run(streaming.announce_changed(conversation_id=conversation_id, message_id=message_id))
    return outcome.status
