"""Contemplating: Auto. A quick answer the model was sure of stops there;
one it was unsure of is contemplated on top, as a new version, and the
quick answer stays as the version before. The fake model's log-probabilities
decide which."""

import pytest
from asgiref.sync import sync_to_async

from museapp.agents.models import Contemplation
from museapp.chat.models import Message
from museapp.turns import services as turns
from tests.fakellm import Reply
from tests.sockets import Frames, answer_ended, open_chat, send

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio,
              pytest.mark.usefixtures("celery_worker_process")]


@pytest.fixture
def auto_chat(conversation):
    conversation.auto_contemplate = True
    conversation.save()
    return conversation


def merged_in(frames_text: str) -> bool:
    return "Muse was unsure, so 4 agents checked." in frames_text


async def test_a_quick_answer_the_model_was_sure_of_stops_there(user, auto_chat, llm):
    llm.script("Capital of France", Reply(text="Paris.", logprob=-0.05))
    socket = await open_chat(user, auto_chat.pk)
    frames = Frames(socket)
    await send(socket, message="Capital of France", auto="on")
    await frames.contains("Capital of France")
    quick = await Message.objects.filter(conversation=auto_chat, author="assistant").alast()
    await frames.until(answer_ended(quick.pk), timeout=30)
    await socket.disconnect()

    # The worker checks after the answer; checking again here decides the same, and waits on nothing.
    kept = await sync_to_async(turns.answer_auto_check)(message_id=quick.pk)

    assert kept is None
    assert len(llm.requests_matching("Capital of France")) == 1, "one model call"
    assert not await Contemplation.objects.filter(message__conversation=auto_chat).aexists()


async def test_an_unsure_quick_answer_is_contemplated_on_top_and_kept_as_a_version(user, auto_chat, llm):
    llm.script("Largest planet", Reply(text="Saturn, maybe.", logprob=-2.5))  # the quick answer: no role
    llm.script("Largest planet", Reply(text="Jupiter.\nFinal answer: Jupiter", logprob=-0.1), system="Final answer")
    socket = await open_chat(user, auto_chat.pk)
    frames = Frames(socket)
    await send(socket, message="Largest planet", auto="on")

    text = await frames.until(merged_in, timeout=60)
    await socket.disconnect()

    contemplation = await Contemplation.objects.select_related("message").aget(message__conversation=auto_chat)
    quick = await Message.objects.filter(conversation=auto_chat, author="assistant").afirst()
    assert contemplation.auto and quick.content == "Saturn, maybe." and quick.confidence == -2.5
    assert contemplation.message.parent_id == quick.parent_id, "a new version of the same answer"
    assert "Jupiter" in contemplation.message.content
    await auto_chat.arefresh_from_db()
    assert auto_chat.current_leaf_id == contemplation.message_id
    assert "Muse was unsure, so 4 agents" in text and 'aria-label="Versions"' in text
