"""A person's slots for answers in progress (MUSE_MAX_RUNNING_ANSWERS) are
given back on every path: a turn its caller rolls back, a conversation
deleted while its answer is being contemplated. A real worker, real Redis."""

import pytest
from django.db import transaction
from django.test import Client

from museapp.agents.models import AgentRun
from museapp.chat.models import Conversation, Message
from museapp.turns import services as turns
from tests.conftest import holds_slot, wait_until
from tests.fakellm import Reply

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("celery_worker_process")]


class CallerFailed(Exception):
    """The caller's own next step failed after the turn was started."""


def started(conversation, text: str, **options) -> Message | None:
    """The answer of a turn, or None when the person is at their cap."""
    try:
        return turns.turn_start(conversation=conversation, text=text, **options).answer
    except turns.AtCapacity:
        return None


def ended(answer: Message) -> Message:
    return wait_until(lambda: Message.objects.exclude(status="streaming").filter(pk=answer.pk).first(),
                      timeout=30, message=f"answer {answer.pk} ended")


def test_a_turn_its_caller_rolls_back_gives_its_slot_back(user, llm, settings):
    settings.MUSE_MAX_RUNNING_ANSWERS = 1
    settings.MUSE_SLOT_PROVISIONAL = 1.0
    llm.script("Again", Reply(text="Answered."))
    conversation = Conversation.objects.create(user=user)

    with pytest.raises(CallerFailed), transaction.atomic():  # as manage.py evaluate wraps its turns
        rolled_back = turns.turn_start(conversation=conversation, text="Never saved").answer.stream
        raise CallerFailed

    wait_until(lambda: not holds_slot(user, rolled_back), timeout=10, message="the rolled-back turn's slot back")
    answer = started(conversation, "Again")
    assert ended(answer).content == "Answered."
    assert list(Message.objects.filter(conversation=conversation, author="user")
                .values_list("content", flat=True)) == ["Again"]


def test_deleting_a_conversation_while_it_is_contemplated_gives_its_slot_back(user, llm, settings):
    settings.MUSE_MAX_RUNNING_ANSWERS = 1
    llm.script("Think slowly", Reply(tokens=600, token_delay=0.05))  # 30 s a draft
    llm.script("Meanwhile", Reply(text="Here now."))
    deleted = Conversation.objects.create(user=user)
    answer = started(deleted, "Think slowly", contemplate=True)
    agents = AgentRun.objects.filter(contemplation__message=answer).count()
    wait_until(lambda: len(llm.requests_matching("Think slowly")) == agents, timeout=15,
               message="every agent drafting")
    client = Client()
    client.force_login(user)

    assert client.post(f"/c/{deleted.pk}/delete/").status_code == 302

    other = Conversation.objects.create(user=user)
    meanwhile = started(other, "Meanwhile")
    assert meanwhile is not None, "the deleted conversation's slot was given back"
    assert ended(meanwhile).content == "Here now."
