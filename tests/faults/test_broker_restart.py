"""RabbitMQ, as the broker, restarts in the middle of an answer and of a
contemplation (a node of the test's own, SIGKILLed and started again): what
was streaming ends whole, the merge still runs, and Muse serves the next
message without being restarted itself. (A Redis broker's restart is
tests/faults/test_redis_restart.py.)"""

import os

import pytest

from museapp.chat.models import Message
from tests.conftest import wait_until
from tests.fakellm import Reply
from tests.live import FAST_REAPING, Stack, Tab, session_for
from tests.servers import RABBITMQ_SERVER, RabbitNode, require, restart
from tests.sockets import answer_ended

pytestmark = [pytest.mark.processes, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def rabbit():
    require("RabbitMQ's server", os.path.exists(RABBITMQ_SERVER))
    node = RabbitNode()
    node.start()
    yield node
    node.remove()


@pytest.fixture
def stack(tmp_path, llm, rabbit):
    # A worker reconnects to the broker with kombu's backoff (2, 4, 6... s apart): a task queued meanwhile
    # waits for it, covered by the default grace rather than the fast one.
    stack = Stack(tmp_path, BROKER_URL=rabbit.url, **{**FAST_REAPING, "MUSE_QUEUE_GRACE": "30"}, MUSE_AGENTS="2",
                  MUSE_MERGE_STRATEGY="select")
    yield stack
    stack.stop()


def the_answer_once_it_ends(conversation, timeout: float) -> Message:
    answer = Message.objects.get(conversation=conversation, author="assistant")
    wait_until(lambda: Message.objects.get(pk=answer.pk).status != Message.Status.STREAMING, timeout=timeout,
               message="the answer to end")
    answer.refresh_from_db()
    return answer


def test_a_rabbitmq_restart_mid_answer_loses_nothing_and_needs_no_restart_of_muse(
        stack, llm, user, conversation, rabbit):
    llm.script("through the outage", Reply(tokens=300, token_delay=0.04))
    web, _worker = stack.web(), stack.worker("w1")
    tab = Tab(web.host, session_for(user), conversation.pk)
    tab.send(action="send", message="through the outage", client_id="c1")
    tab.contains("tok10 ")

    restart(rabbit)

    answer = the_answer_once_it_ends(conversation, timeout=40)
    assert answer.status == Message.Status.DONE
    assert answer.content.startswith("tok0 ") and answer.content.rstrip().endswith("tok299")
    tab.until(answer_ended(answer.pk), timeout=20)

    llm.script("after the outage", Reply(text="Back in business."))
    tab.send(action="send", message="after the outage", client_id="c2")
    tab.contains("Back in business.", timeout=60)
    after = Message.objects.filter(conversation=conversation, author="assistant").exclude(pk=answer.pk).get()
    tab.until(answer_ended(after.pk))
    assert Message.objects.get(pk=after.pk).status == Message.Status.DONE
    assert stack.server_errors(tracebacks=False) == [], "no request failed, even during the outage"


def test_a_rabbitmq_restart_mid_contemplation_still_ends_in_a_merged_answer(
        stack, llm, user, conversation, rabbit):
    llm.script("weigh it through the outage", Reply(tokens=100, token_delay=0.04))
    llm.script("weigh it through the outage", Reply(text="Pick Draft A. Both agree."), system="judge")
    web, _worker = stack.web(), stack.worker("w1")
    tab = Tab(web.host, session_for(user), conversation.pk)
    tab.send(action="send", message="weigh it through the outage", contemplate="on", client_id="c1")
    tab.until(lambda _text: len(tab.streams_with("agent", "tok5 ")) == 2)

    # Down until after both drafts end: the merge is handed to a broker that is not there yet.
    restart(rabbit, down_for=5.0)

    answer = the_answer_once_it_ends(conversation, timeout=90)
    assert answer.status == Message.Status.DONE, answer.content
    assert answer.content.rstrip().endswith("tok99"), "a whole draft, chosen by the merge"
    runs = answer.contemplation.runs.filter(kind="agent")
    assert [run.status for run in runs] == ["done", "done"]
    tab.until(answer_ended(answer.pk), timeout=20)
    assert stack.server_errors(tracebacks=False) == []
