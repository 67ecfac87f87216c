"""The worker reaches the model at the endpoint of its own settings (no
endpoint or key travels in a task), and a person learns where it failed."""

import pytest

from museapp.chat.models import Conversation, Message
from tests.conftest import wait_until
from tests.live import Stack, Tab, session_for
from tests.sockets import answer_ended

pytestmark = [pytest.mark.processes, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def stack(tmp_path, llm):
    stack = Stack(tmp_path, MUSE_API_BASE="http://127.0.0.1:9/v1")
    yield stack
    stack.stop()


def test_a_worker_whose_model_server_is_down_says_how_to_fix_it(stack, user):
    conversation = Conversation.objects.create(user=user)
    web, _ = stack.web(), stack.worker("w1")
    tab = Tab(web.host, session_for(user), conversation.pk)

    tab.send(action="send", message="anyone there?", client_id="c1")

    answer = wait_until(lambda: Message.objects.filter(conversation=conversation, author="assistant").first(),
                        message="the answer's row")
    tab.until(answer_ended(answer.pk, "error"))
    assert "Could not connect to the model at http://127.0.0.1:9/v1" in tab.text
    answer.refresh_from_db()
    assert answer.error.startswith("Could not connect to the model at http://127.0.0.1:9/v1")
    tab.close()
