"""A question is enqueued by the turn's commit, before any frame goes out:
a tab closed right after Send loses nothing (against the real ASGI server,
where sending to a closed socket fails)."""

import json

import pytest
from django.test import Client
from websockets.sync.client import connect

from museapp.chat.models import Conversation, Message
from tests.conftest import wait_until
from tests.fakellm import Reply

pytestmark = pytest.mark.django_db(transaction=True)


def send_and_close(base_url: str, cookie: str, conversation_id: int, text: str) -> None:
    url = base_url.replace("http://", "ws://", 1) + f"/ws/chat/{conversation_id}/"
    with connect(url, additional_headers={"Origin": base_url, "Cookie": cookie}, open_timeout=10) as socket:
        socket.send(json.dumps({"action": "send", "message": text, "client_id": "c1"}))
    # closed at once: the page never waits for the turn's frame


def test_a_tab_closed_right_after_send_still_gets_every_question_answered(live_server_url, user, llm):
    llm.script("question", Reply(text="An answer all the same."))
    client = Client()
    client.force_login(user)
    cookie = f"sessionid={client.cookies['sessionid'].value}"
    conversations = [Conversation.objects.create(user=user) for _ in range(20)]

    for number, conversation in enumerate(conversations):
        send_and_close(live_server_url, cookie, conversation.pk, f"question {number}")
        # One at a time: a person has only so many answers in progress (museapp/streams/running.py).
        wait_until(lambda: Message.objects.filter(conversation=conversation, author="assistant")
                   .exclude(status="streaming").exists(), timeout=20, message=f"answer {number}")

    answers = Message.objects.filter(conversation__in=conversations, author="assistant")
    assert [answer.status for answer in answers] == ["done"] * len(conversations)
    assert {answer.content for answer in answers} == {"An answer all the same."}
    asked = {request["messages"][-1]["content"] for request in llm.requests}
    assert {f"question {number}" for number in range(len(conversations))} <= asked
