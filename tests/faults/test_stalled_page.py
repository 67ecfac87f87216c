"""A tab that stops reading (a bad network, a sleeping laptop) while
answers stream fast: it holds up no other tab, and once it reads again it
shows its answer whole and in order (museapp/web/outbox.py)."""

import time

import pytest
from django.conf import settings
from django.test import override_settings
from redis import Redis

from museapp.chat.models import Conversation, Message
from museapp.streams.names import Stream, live_keys
from tests.conftest import wait_until
from tests.fakellm import Reply
from tests.live import Stack, Tab, session_for
from tests.sockets import answer_ended

pytestmark = [pytest.mark.processes, pytest.mark.django_db(transaction=True)]

STALL_S = 10.0
# Eight megabytes in 4,000 tokens, at least 12 s: by the time the tab reads
# again, more has streamed than the kernel holds for a socket nobody reads
# (its send buffer grows to 4 MB), so the server's writes to the tab stopped
# and its frames were dropped, and the answer is still streaming.
LONG = [f"w{i}" + "abcdefghij" * 200 + " " for i in range(4000)]
STREAMED_BEFORE_WAKING = 6_000_000


def test_a_stalled_tab_holds_up_no_one_and_ends_with_its_answer_whole(tmp_path, llm, user):
    stack = Stack(tmp_path, MUSE_RENDER_INTERVAL="3600")  # frames of new text only, rendered at the end
    try:
        web = stack.web()
        stack.worker("worker", concurrency=4)
        llm.script("a long one, please", Reply(text="".join(LONG), token_delay=0.003))
        llm.script("and one for me", Reply(tokens=1000, token_delay=0.002))
        session = session_for(user)
        sleepy, steady = Conversation.objects.create(user=user), Conversation.objects.create(user=user)
        sleeping = Tab(web.host, session, sleepy.pk, slow_network=True)
        awake = Tab(web.host, session, steady.pk)

        sleeping.send(action="send", message="a long one, please", client_id="q1")
        sleeping.contains("w0abc")
        sleeping_answer = answer(sleepy)
        stalled_at = time.monotonic()  # from now on the tab reads nothing
        awake.send(action="send", message="and one for me", client_id="q2")
        awake.contains("tok0 ")
        awake_answer = answer(steady)
        awake.until(answer_ended(awake_answer.pk), timeout=STALL_S)
        assert time.monotonic() - stalled_at < STALL_S, "the other tab streamed while this one slept"
        # Every one of the awake tab's frames came, in order: its token frames alone make up the answer.
        assert awake.streamed(f"msg-{awake_answer.pk}") == "".join(f"tok{i} " for i in range(1000))

        wait_until(lambda: streamed_so_far(stack, sleeping_answer) > STREAMED_BEFORE_WAKING, timeout=60,
                   message="most of the sleeping tab's answer to stream")
        time.sleep(max(0.0, STALL_S - (time.monotonic() - stalled_at)))
        sleeping.until(answer_ended(sleeping_answer.pk), timeout=60)

        stream = f"msg-{sleeping_answer.pk}"
        re_rendered = [frame for frame in sleeping.frames if f'<article id="{stream}"' in frame]
        assert len(re_rendered) == 3, "shown as the turn began, anew where it woke (still streaming), and done"
        expected = "".join("".join(LONG).split())
        showings = ["".join(shown.split()) for shown in sleeping.showings(stream)]
        holes = [len(shown) for shown in showings if not expected.startswith(shown)]
        assert holes == [], "at every moment, the page showed the answer's beginning, in order"
        assert showings[-1] == expected
        assert stack.server_errors() == []
    finally:
        stack.stop()


def answer(conversation: Conversation) -> Message:
    return conversation.messages.filter(author="assistant").order_by("-id").first()


def streamed_so_far(stack: Stack, message: Message) -> int:
    """The length of the answer's live text in Redis, which the worker
    records before each frame (museapp/streams/livetext.py)."""
    with override_settings(MUSE_REDIS_PREFIX=stack.env["MUSE_REDIS_PREFIX"]):
        text_key, _ = live_keys(Stream.answer(message.pk))
    return Redis.from_url(settings.REDIS_URL).strlen(text_key)
