"""Picking the model per conversation (MUSE_MODELS), and answers saying which
model wrote them. The fake model answers under two names."""

import pytest

from museapp.chat.models import Conversation, Message
from museapp.llm import local

pytestmark = pytest.mark.django_db


@pytest.fixture
def conversation(user):
    return Conversation.objects.create(user=user, title="Models")


@pytest.fixture
def logged_in(client, user):
    client.force_login(user)
    return client


def test_the_header_offers_every_configured_model_with_the_first_as_default(logged_in, conversation):
    page = logged_in.get(f"/c/{conversation.pk}/").content.decode()

    assert '<label for="model-select" class="visually-hidden">Model</label>' in page
    assert '<option value="openai/fake-model" selected>Fake model</option>' in page
    assert '<option value="openai/fake-model-2">Fake model two</option>' in page
    assert '<option value="muse-local/smollm2-135m">SmolLM2 (offline demo)</option>' in page


def test_picking_a_model_saves_it_on_the_conversation(logged_in, conversation):
    response = logged_in.post(f"/c/{conversation.pk}/model/", {"model": "openai/fake-model-2"},
                              headers={"HX-Request": "true"})

    assert response.status_code == 200
    assert '<option value="openai/fake-model-2" selected>' in response.content.decode()
    conversation.refresh_from_db()
    assert conversation.model == "openai/fake-model-2"
    page = logged_in.get(f"/c/{conversation.pk}/").content.decode()
    assert '<option value="openai/fake-model-2" selected>' in page


def test_a_model_that_is_not_on_offer_is_refused(logged_in, conversation):
    response = logged_in.post(f"/c/{conversation.pk}/model/", {"model": "openai/gpt-5-ultra"},
                              headers={"HX-Request": "true"})

    assert response.status_code == 400
    assert "not on offer" in response.content.decode()
    conversation.refresh_from_db()
    assert conversation.model == ""


def test_someone_elses_conversation_model_cannot_be_changed(client, other_user, conversation):
    client.force_login(other_user)
    response = client.post(f"/c/{conversation.pk}/model/", {"model": "openai/fake-model-2"})

    assert response.status_code == 404
    conversation.refresh_from_db()
    assert conversation.model == ""


def test_a_model_dropped_from_the_list_falls_back_to_the_default(logged_in, conversation, settings):
    conversation.model = "openai/retired-model"
    conversation.save()

    page = logged_in.get(f"/c/{conversation.pk}/").content.decode()

    assert '<option value="openai/fake-model" selected>' in page


def test_the_offline_model_shows_a_dismissible_notice(logged_in, conversation):
    conversation.model = local.MODEL
    conversation.save()

    page = logged_in.get(f"/c/{conversation.pk}/").content.decode()
    assert "small offline demo model" in page
    assert "MUSE_MODEL" not in page, "the set-up hint is for staff"
    assert "On this model Contemplating is barely worth it" in page, "what the evaluation measured"

    logged_in.post("/notices/local-model/dismiss/", headers={"HX-Request": "true"})
    assert "small offline demo model" not in logged_in.get(f"/c/{conversation.pk}/").content.decode()


def test_a_real_provider_shows_no_offline_notice(logged_in, conversation):
    assert "small offline demo model" not in logged_in.get(f"/c/{conversation.pk}/").content.decode()


def test_picking_the_offline_model_brings_its_notice(logged_in, conversation):
    response = logged_in.post(f"/c/{conversation.pk}/model/", {"model": local.MODEL},
                              headers={"HX-Request": "true"})

    assert 'id="local-notice"' in response.content.decode()
    assert "small offline demo model" in response.content.decode()


def test_each_answer_shows_the_label_of_the_model_that_wrote_it(logged_in, conversation):
    Message.objects.create(conversation=conversation, author="user", content="hi")
    Message.objects.create(conversation=conversation, author="assistant", content="hello",
                           model="openai/fake-model-2", status="done")

    page = logged_in.get(f"/c/{conversation.pk}/").content.decode()

    assert '<span class="model" title="openai/fake-model-2">Fake model two</span>' in page


def test_staff_also_see_how_to_set_a_real_model_up(client, user, conversation):
    conversation.model = local.MODEL
    conversation.save()
    user.is_staff = True
    user.save()
    client.force_login(user)

    page = client.get(f"/c/{conversation.pk}/").content.decode()

    assert "For staff: set <code>MUSE_MODEL</code>" in page


def test_with_only_one_model_there_is_no_picker(logged_in, conversation, settings):
    settings.MUSE_MODELS = ""
    settings.MUSE_MODEL = "openai/only-one"

    page = logged_in.get(f"/c/{conversation.pk}/").content.decode()

    assert 'id="model-select"' not in page


def test_with_nothing_configured_the_offline_model_is_the_default(logged_in, conversation, settings):
    settings.MUSE_MODELS = ""
    settings.MUSE_MODEL = ""

    page = logged_in.get(f"/c/{conversation.pk}/").content.decode()

    assert 'id="model-select"' not in page, "one model: nothing to pick"
    assert "small offline demo model" in page
