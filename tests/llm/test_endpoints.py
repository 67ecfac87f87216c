"""The worker reaches the model at the endpoint of its own settings (no
endpoint or key travels in a task); a person learns what failed, in plain
words, and staff learn where from the worker's log."""

import pytest
from django.test import Client

from museapp.chat.models import Conversation, Message
from museapp.llm.adapter import REASONS
from tests.conftest import wait_until
from tests.live import Stack, Tab, session_for
from tests.sockets import answer_ended

pytestmark = [pytest.mark.processes, pytest.mark.django_db(transaction=True)]

DOWN = "http://127.0.0.1:9/v1"


@pytest.fixture
def stack(tmp_path, llm):
    stack = Stack(tmp_path, MUSE_API_BASE=DOWN)
    yield stack
    stack.stop()


def test_a_worker_whose_model_server_is_down_says_so_without_naming_the_server(stack, user):
    conversation = Conversation.objects.create(user=user)
    web, worker = stack.web(), stack.worker("w1")
    tab = Tab(web.host, session_for(user), conversation.pk)

    tab.send(action="send", message="anyone there?", client_id="c1")

    answer = wait_until(lambda: Message.objects.filter(conversation=conversation, author="assistant").first(),
                        message="the answer's row")
    tab.until(answer_ended(answer.pk, "error"))
    tab.close()
    client = Client()
    client.force_login(user)
    page = client.get(f"/c/{conversation.pk}/").content.decode()
    answer.refresh_from_db()
    assert answer.error == REASONS["unreachable"]
    assert "Muse could not reach the model server." in tab.text
    assert "Muse could not reach the model server." in page
    for where in (DOWN, "127.0.0.1:9"):
        assert where not in tab.text
        assert where not in page
        assert where not in answer.error
    assert f"api_base={DOWN}" in worker.output(), "staff can see where it tried"
