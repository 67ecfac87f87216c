"""Every event a conversation's pages receive while a quick answer and a
contemplation run, as the real worker sends them, fits the schema
(museapp/streams/events.py)."""

import asyncio

import pytest
from channels.layers import get_channel_layer

from museapp.chat.models import Message
from museapp.streams import events
from museapp.streams.names import conversation_group
from tests.fakellm import Reply
from tests.sockets import answer_until_done

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.asyncio,
    pytest.mark.usefixtures("celery_worker_process"),
]


class GroupListener:
    """A channel subscribed to the conversation's group, keeping every event."""

    def __init__(self, conversation_id: int):
        self.layer = get_channel_layer()
        self.group = conversation_group(conversation_id)
        self.received: list[dict] = []

    async def __aenter__(self):
        self.channel = await self.layer.new_channel()
        await self.layer.group_add(self.group, self.channel)
        self.task = asyncio.create_task(self._listen())
        return self

    async def _listen(self) -> None:
        while True:
            self.received.append(await self.layer.receive(self.channel))

    async def has_the_end_of(self, answer: Message) -> None:
        """Until the answer's last "changed" has reached this listener too."""
        for _ in range(500):
            if any(event["type"] == events.MESSAGE_CHANGED and event["message_id"] == answer.pk
                   for event in self.received):
                return
            await asyncio.sleep(0.01)
        raise AssertionError("the answer's end never reached the group")

    async def __aexit__(self, *exc_info):
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)
        await self.layer.group_discard(self.group, self.channel)


async def test_a_quick_answers_events_fit_the_schema(user, conversation, llm):
    llm.script("schema please", Reply(text="one two three four", token_delay=0.01))

    async with GroupListener(conversation.pk) as listener:
        answer = await answer_until_done(user, conversation, message="schema please")
        await listener.has_the_end_of(answer)

    types = [event["type"] for event in listener.received]
    assert events.TOKENS in types and events.MESSAGE_CHANGED in types and events.TURN in types
    for event in listener.received:
        events.check(event)


async def test_a_contemplations_events_fit_the_schema(user, conversation, llm):
    llm.script("deep schema", Reply(text="Final answer: 4", token_delay=0.01))

    async with GroupListener(conversation.pk) as listener:
        answer = await answer_until_done(user, conversation, message="deep schema", contemplate="on", strategy="vote")
        await listener.has_the_end_of(answer)

    types = {event["type"] for event in listener.received}
    assert types == {events.TOKENS, events.MESSAGE_CHANGED, events.AGENT_CHANGED, events.TURN}
    streams = {event["stream"] for event in listener.received if event["type"] == events.TOKENS}
    assert len([s for s in streams if s.startswith("agent-")]) == 4, "every agent streamed"
    for event in listener.received:
        events.check(event)
