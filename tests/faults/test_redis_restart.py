"""The Redis server restarts (losing everything it held) in the middle of an
answer: the answer still completes, the open page sees it end, and Muse keeps
serving without being restarted itself."""

import pytest

from museapp.chat.models import Message
from tests.conftest import wait_until
from tests.fakellm import Reply
from tests.live import FAST_REAPING, Stack, Tab, session_for
from tests.servers import redis_of_its_own, restart
from tests.sockets import answer_ended

pytestmark = [pytest.mark.processes, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def redis_server():
    server = redis_of_its_own()
    yield server
    server.stop()


@pytest.fixture
def stack(tmp_path, llm, redis_server):
    stack = Stack(tmp_path, REDIS_URL=f"unix://{redis_server.socket_path}", **FAST_REAPING,
                  MUSE_AGENTS="2", MUSE_MERGE_STRATEGY="select")
    yield stack
    stack.stop()


def the_answer_once_it_ends(conversation, timeout: float) -> Message:
    answer = Message.objects.get(conversation=conversation, author="assistant")
    wait_until(lambda: Message.objects.get(pk=answer.pk).status != Message.Status.STREAMING, timeout=timeout,
               message="the answer to end")
    answer.refresh_from_db()
    return answer


def test_a_redis_restart_mid_answer_loses_nothing_and_needs_no_restart_of_muse(
        stack, llm, user, conversation, redis_server):
    llm.script("through the storm", Reply(tokens=200, token_delay=0.04))
    web, _worker = stack.web(), stack.worker("w1")
    tab = Tab(web.host, session_for(user), conversation.pk)
    tab.send(action="send", message="through the storm", client_id="c1")
    tab.contains("tok10 ")

    restart(redis_server)

    answer = the_answer_once_it_ends(conversation, timeout=40)
    assert answer.status == Message.Status.DONE
    assert answer.content.startswith("tok0 ") and answer.content.rstrip().endswith("tok199")

    # The page open through the restart, or one that reconnects, shows the whole answer.
    fresh = Tab(web.host, session_for(user), conversation.pk)
    fresh.contains("tok199")
    tab.until(answer_ended(answer.pk), timeout=20)
    logged_in_the_outage = len(stack.server_errors())

    # And Muse goes on serving.
    llm.script("after the storm", Reply(text="Calm again."))
    fresh.send(action="send", message="after the storm", client_id="c2")
    fresh.contains("Calm again.")
    calm = Message.objects.filter(conversation=conversation, author="assistant").exclude(pk=answer.pk).get()
    fresh.until(answer_ended(calm.pk))
    assert stack.server_errors()[logged_in_the_outage:] == [], "nothing fails once Redis is back"
    assert stack.server_errors(tracebacks=False) == [], "no request failed, even during the outage"


def test_a_redis_restart_mid_contemplation_still_ends_in_a_merged_answer(
        stack, llm, user, conversation, redis_server):
    llm.script("weather the storm", Reply(tokens=120, token_delay=0.04))
    llm.script("weather the storm", Reply(text="Pick Draft A. Both agree."), system="judge")
    web, _worker = stack.web(), stack.worker("w1")
    tab = Tab(web.host, session_for(user), conversation.pk)
    tab.send(action="send", message="weather the storm", contemplate="on", client_id="c1")
    tab.until(lambda _text: len(tab.streams_with("agent", "tok5 ")) == 2)

    restart(redis_server)

    answer = the_answer_once_it_ends(conversation, timeout=60)
    assert answer.status == Message.Status.DONE
    assert answer.content.rstrip().endswith("tok119"), "a whole draft, chosen by the merge"
    runs = answer.contemplation.runs.filter(kind="agent")
    assert [run.status for run in runs] == ["done", "done"]
    assert all(run.text.rstrip().endswith("tok119") for run in runs), "no draft lost its text"
    fresh = Tab(web.host, session_for(user), conversation.pk)
    fresh.until(answer_ended(answer.pk))
    assert stack.server_errors(tracebacks=False) == []
