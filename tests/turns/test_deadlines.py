"""Every run has a wall-clock deadline: a provider trickling tokens cannot
hold a worker's thread past it. The run ends cut off, its text kept."""

import time

import pytest
from asgiref.sync import sync_to_async

from museapp.chat.models import Conversation, Message
from tests.conftest import wait_until
from tests.fakellm import Reply
from tests.live import Stack, Tab, session_for
from tests.sockets import Frames, answer_ended, answer_of, open_chat, send


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
@pytest.mark.usefixtures("celery_worker_process")
async def test_a_quick_answer_past_its_deadline_is_cut_off_with_its_text_kept(user, conversation, llm, settings):
    settings.MUSE_ANSWER_DEADLINE = 1.5
    llm.script("trickle", Reply(tokens=400, token_delay=0.05))  # 20 s of tokens, one at a time
    socket = await open_chat(user, conversation.pk)
    frames = Frames(socket)
    sent_at = time.monotonic()

    await send(socket, message="trickle please")
    await frames.contains("trickle please")
    answer = await answer_of(conversation)
    await frames.until(answer_ended(answer.pk, "error"), timeout=15)

    assert time.monotonic() - sent_at < 8, "ended at its deadline, not when the model finished"
    await sync_to_async(answer.refresh_from_db)()
    assert answer.error.startswith("Cut off: this answer ran past Muse's time limit.")
    assert answer.content.startswith("tok0 tok1 tok2"), "what was streamed is kept"
    assert "tok399" not in answer.content
    assert "Cut off" in frames.text and ">Retry</button>" in frames.text
    await socket.disconnect()


@pytest.fixture
def stack(tmp_path, llm):
    stack = Stack(tmp_path, MUSE_MERGE_DEADLINE="1.5", MUSE_AGENTS="2", MUSE_MERGE_STRATEGY="synthesize")
    yield stack
    stack.stop()


@pytest.mark.processes
@pytest.mark.django_db(transaction=True)
def test_a_merge_past_its_deadline_is_cut_off_with_its_text_kept(stack, llm, user):
    llm.script("deep trickle", Reply(text="Seven, I think."))  # no short answer: the judge must merge
    llm.script("deep trickle", Reply(text="Relied on: A\n" + "slowly " * 400, token_delay=0.05), system="judge")
    conversation = Conversation.objects.create(user=user, contemplate=True)
    web, _ = stack.web(), stack.worker("w1")
    tab = Tab(web.host, session_for(user), conversation.pk)
    sent_at = time.monotonic()

    tab.send(action="send", message="deep trickle", contemplate="on", strategy="synthesize", client_id="c1")
    answer = wait_until(lambda: Message.objects.filter(conversation=conversation, author="assistant").first(),
                        message="the answer's row")
    tab.until(answer_ended(answer.pk, "error"), timeout=30)

    assert time.monotonic() - sent_at < 15
    answer.refresh_from_db()
    assert answer.error.startswith("Cut off: this answer ran past Muse's time limit.")
    assert answer.content.startswith("slowly slowly"), "the judge's text so far is kept"
    assert answer.content.count("slowly") < 400
    tab.close()
