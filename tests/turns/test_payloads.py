"""A task carries ids and model settings, never a whole history: a 300-turn
conversation's answer and its agents are enqueued with small payloads."""

import json

import pytest

from museapp.chat.models import Message
from museapp.turns import services as turns
from tests.trees import link_in_order

pytestmark = pytest.mark.django_db

LIMIT = 64 * 1024


@pytest.fixture
def long_conversation(conversation):
    Message.objects.bulk_create(
        Message(conversation=conversation, author=author, content=f"turn {i}: " + "words " * 2_000)
        for i in range(300) for author in ("user", "assistant")
    )
    link_in_order()
    return conversation


@pytest.mark.parametrize("contemplate", [False, True])
def test_a_long_conversations_task_payloads_stay_small(long_conversation, contemplate):
    turn = turns.turn_start(conversation=long_conversation, text="And now?", contemplate=contemplate)

    payloads = [json.dumps(arguments) for arguments in turn.run.task_arguments()]

    assert payloads and len(payloads) == (4 if contemplate else 1)
    assert max(len(payload) for payload in payloads) < LIMIT
    assert all("turn 0:" not in payload for payload in payloads), "no history travels"
