"""Two web processes and two workers against one database and one Redis (and
either broker) behave as one app: tabs on either web process see every answer, whichever
worker runs it (README, "Growing past one machine")."""

import re

import pytest

from museapp.chat.models import Conversation, Message
from tests.conftest import wait_until
from tests.fakellm import Reply
from tests.live import Stack, Tab, session_for
from tests.servers import BROKERS, broker_env

pytestmark = [pytest.mark.processes, pytest.mark.django_db(transaction=True)]


def tasks_run_by(worker) -> int:
    return len(re.findall(r"Task muse\.run_answer\[[^\]]+\] succeeded", worker.output()))


@pytest.mark.parametrize("broker", BROKERS)
def test_two_web_processes_and_two_workers_behave_as_one_app(tmp_path, llm, user, broker):
    stack = Stack(tmp_path, **broker_env(broker))
    try:
        llm.script("first question", Reply(text="First answer, slowly told.", token_delay=0.15))
        llm.script("second question", Reply(text="Second answer, slowly told.", token_delay=0.15))
        web_a, web_b = stack.web("web-a"), stack.web("web-b")
        # One answer at a time each: two answers at once need both workers.
        worker_a, worker_b = stack.worker("worker-a", concurrency=1), stack.worker("worker-b", concurrency=1)
        session = session_for(user)
        first, second = Conversation.objects.create(user=user), Conversation.objects.create(user=user)
        first_on_a, first_on_b = Tab(web_a.host, session, first.pk), Tab(web_b.host, session, first.pk)
        second_on_b = Tab(web_b.host, session, second.pk)

        first_on_a.send(action="send", message="first question", client_id="q1")
        second_on_b.send(action="send", message="second question", client_id="q2")

        for tab, text in ((first_on_a, "First answer, slowly told."), (first_on_b, "First answer, slowly told."),
                          (second_on_b, "Second answer, slowly told.")):
            tab.until(lambda frames, text=text: text in frames and 'data-status="done"' in frames, timeout=20)
        # Its first words may come in the turn's frame (the answer is enqueued before the turn is
        # announced); its last always stream live through the other web process.
        assert "slowly told." in first_on_b.streamed(f"msg-{answer(first).pk}"), "the other web process streamed it too"
        wait_until(lambda: (tasks_run_by(worker_a), tasks_run_by(worker_b)) == (1, 1),
                   message="each worker to log one task")

        # With the worker beside web process A gone, A's tabs are served by B's.
        stack.kill(worker_a)
        llm.script("third question", Reply(text="Third answer, from the other side."))
        first_on_a.send(action="send", message="third question", client_id="q3")
        first_on_a.contains("Third answer, from the other side.")
        first_on_b.contains("Third answer, from the other side.")
        wait_until(lambda: tasks_run_by(worker_b) == 2, message="worker B to log its second task")
        assert answer(first).status == Message.Status.DONE
        assert stack.server_errors() == []
    finally:
        stack.stop()


def answer(conversation: Conversation) -> Message:
    return conversation.messages.filter(author="assistant").order_by("-id").first()


@pytest.mark.parametrize("broker", BROKERS)
def test_several_web_processes_on_one_port_serve_every_tab_of_a_conversation(tmp_path, llm, user, broker):
    stack = Stack(tmp_path, **broker_env(broker))
    try:
        web = stack.web("web", processes=2)
        stack.worker("worker")
        wait_until(lambda: web.output().count("Started server process") == 2, message="both web processes")
        llm.script("many tabs", Reply(text="Every tab sees this.", token_delay=0.05))
        session = session_for(user)
        conversation = Conversation.objects.create(user=user)
        # The kernel hands each connection to one of the processes.
        tabs = [Tab(web.host, session, conversation.pk) for _ in range(6)]

        tabs[0].send(action="send", message="many tabs", client_id="q1")
        for tab in tabs:
            tab.until(lambda frames: "Every tab sees this." in frames and 'data-status="done"' in frames)
        assert answer(conversation).status == Message.Status.DONE
        assert stack.server_errors() == []
    finally:
        stack.stop()
