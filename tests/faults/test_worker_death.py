"""Workers die (SIGKILL, mid-stream), on either broker: nothing hangs and
nothing the person wrote is lost. A lost answer is closed as interrupted with a Retry button; a
lost agent fails and the merge goes on without it."""

import re

import pytest

from museapp.agents.models import AgentRun
from museapp.chat.models import Conversation, Message
from tests.fakellm import Reply
from tests.live import FAST_REAPING, Stack, Tab, session_for
from tests.servers import BROKERS, broker_env
from tests.sockets import answer_ended

pytestmark = [pytest.mark.processes, pytest.mark.django_db(transaction=True)]

@pytest.fixture(params=BROKERS)
def stack(request, tmp_path, llm):
    stack = Stack(tmp_path, **broker_env(request.param), **FAST_REAPING, MUSE_AGENTS="2",
                  MUSE_MERGE_STRATEGY="select")
    yield stack
    stack.stop()


def answer_id(text: str) -> int:
    return int(re.findall(r'id="msg-(\d+)"[^>]*data-author="assistant"', text)[-1])


def test_after_a_full_restart_an_answer_cut_short_is_closed_as_interrupted_and_can_be_retried(stack, llm, user):
    llm.script("tell me a long story", Reply(tokens=400, token_delay=0.05))
    conversation = Conversation.objects.create(user=user)
    web, worker = stack.web(), stack.worker("w1")
    tab = Tab(web.host, session_for(user), conversation.pk)
    tab.send(action="send", message="tell me a long story", client_id="c1")
    tab.contains("tok10 ")

    stack.kill(worker)  # the machine goes down: worker and web at once
    stack.kill(web)
    web, _ = stack.web("web2"), stack.worker("w2")

    tab = Tab(web.host, session_for(user), conversation.pk)
    tab.contains('data-status="error"', timeout=20)
    assert "Interrupted" in tab.text and ">Retry</button>" in tab.text
    answer = Message.objects.get(pk=answer_id(tab.text))
    assert answer.status == Message.Status.ERROR
    assert answer.content.startswith("tok0 tok1 tok2"), "what was streamed is kept"
    assert Message.objects.filter(conversation=conversation, author="user",
                                  content="tell me a long story").exists()

    llm.script("tell me a long story", Reply(text="Once upon a time, briefly."))
    tab.send(action="retry", message_id=answer.pk)
    tab.contains("Once upon a time, briefly.")
    tab.until(answer_ended(answer.pk))
    answer.refresh_from_db()
    assert (answer.status, answer.content) == (Message.Status.DONE, "Once upon a time, briefly.")


def test_an_agent_whose_worker_is_killed_fails_and_the_merge_goes_on_without_it(stack, llm, user):
    llm.script("weigh the options", Reply(tokens=120, token_delay=0.05))
    llm.script("weigh the options", Reply(text="Pick Draft A. The only draft left."), system="judge")
    conversation = Conversation.objects.create(user=user)
    web = stack.web()
    # One agent each: whichever worker dies takes exactly one agent with it.
    first, _second = stack.worker("w1", concurrency=1), stack.worker("w2", concurrency=1)
    tab = Tab(web.host, session_for(user), conversation.pk)
    tab.send(action="send", message="weigh the options", contemplate="on", client_id="c1")
    tab.until(lambda _text: len(tab.streams_with("agent", "tok3 ")) == 2)

    stack.kill(first)

    tab.until(lambda text: re.search(r'id="msg-\d+"[^>]*data-status="done"', text), timeout=30)
    message = Message.objects.get(pk=answer_id(tab.text))
    runs = {run.status: run for run in AgentRun.objects.filter(contemplation__message=message, kind="agent")}
    assert set(runs) == {AgentRun.Status.DONE, AgentRun.Status.FAILED}
    assert "Interrupted" in runs[AgentRun.Status.FAILED].error
    assert runs[AgentRun.Status.FAILED].text.startswith("tok0 tok1"), "the partial draft is kept"
    assert message.status == Message.Status.DONE
    assert message.content.startswith("tok0 tok1") and message.content.rstrip().endswith("tok119")
    assert "Interrupted" in tab.text
