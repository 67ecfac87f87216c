"""The quick answer's Celery task: thin, over museapp/streams and the chat
services. It carries ids and model settings; the conversation so far is read
here, as the answer starts."""

from celery import shared_task

from museapp.chat import services
from museapp.chat.context import call_in_context
from museapp.ops import loop
from museapp.ops.outage import through_outage
from museapp.streams import running
from museapp.streams.leased import run_leased
from museapp.streams.names import Stream
from museapp.streams.run import run_stream


@shared_task(name="muse.run_answer")
def run_answer(*, message_id: int, conversation_id: int, owner_id: int, call: dict, deadline: float) -> str:
    stream = Stream.answer(message_id)

    def work() -> str:
        try:
            model_call = call_in_context(call, conversation_id=conversation_id, before_id=message_id)
            result = loop.run(run_stream(stream=stream, conversation_id=conversation_id, call=model_call,
                                         deadline=deadline))
            through_outage(services.answer_finish, message_id=message_id, result=result)
        finally:
            loop.run(running.release(owner_id=owner_id, stream=stream))
        return result.status

    return run_leased(stream, conversation_id=conversation_id, work=work)
