"""The judge's model, picked in the strategy menu: remembered per
conversation, only from the models on offer, recorded per merge."""

import pytest
from django.db import transaction

from museapp.agents import starting as agents
from museapp.chat import services as chat
from museapp.chat.models import Conversation
from museapp.chat.services import InvalidMessage
from museapp.turns import services as turns

pytestmark = pytest.mark.django_db


@pytest.fixture
def conversation(user):
    return Conversation.objects.create(user=user, title="Judged")


def test_the_menu_saves_a_judge_on_offer(client, user, conversation):
    client.force_login(user)

    response = client.post(f"/c/{conversation.pk}/preferences/", {"contemplate": "on", "judge": "openai/fake-model-2"},
                           headers={"HX-Request": "true"})

    conversation.refresh_from_db()
    assert response.status_code == 204 and conversation.judge_model == "openai/fake-model-2"


def test_a_judge_not_on_offer_is_refused_and_nothing_changes(client, user, conversation):
    client.force_login(user)

    response = client.post(f"/c/{conversation.pk}/preferences/", {"judge": "openai/gpt-9"},
                           headers={"HX-Request": "true"})

    conversation.refresh_from_db()
    assert response.status_code == 400 and b"That judge model is not on offer here." in response.content
    assert conversation.judge_model == ""


def test_the_page_offers_each_model_as_judge_with_the_current_one_selected(client, user, conversation):
    Conversation.objects.filter(pk=conversation.pk).update(judge_model="openai/fake-model-2")
    client.force_login(user)

    page = client.get(f"/c/{conversation.pk}/").content.decode()

    assert '<option value="">Judge: this chat\'s model</option>' in page
    assert '<option value="openai/fake-model-2" selected>Judge: Fake model two</option>' in page


def test_an_empty_judge_means_the_default_again(conversation):
    turns.conversation_set_preferences(conversation=conversation, judge="openai/fake-model-2")
    turns.conversation_set_preferences(conversation=conversation, judge="")

    assert Conversation.objects.get(pk=conversation.pk).judge_model == ""


def test_the_contemplation_records_the_judge_picked_and_forgets_one_no_longer_offered(conversation, settings):
    turns.conversation_set_preferences(conversation=conversation, judge="openai/fake-model-2")
    with transaction.atomic():
        first = agents.contemplation_start(conversation=conversation, answer=chat.answer_placeholder(
            conversation=conversation), agents=2)
    settings.MUSE_MODELS = "openai/fake-model=Fake model"
    with transaction.atomic():
        second = agents.contemplation_start(conversation=conversation, answer=chat.answer_placeholder(
            conversation=conversation), agents=2)

    assert first.contemplation.judge_model == "openai/fake-model-2"
    assert second.contemplation.judge_model == ""


def test_a_turn_with_a_judge_not_on_offer_is_refused(conversation):
    with pytest.raises(InvalidMessage):
        turns.turn_start(conversation=conversation, text="hi", contemplate=True, judge="openai/gpt-9")
