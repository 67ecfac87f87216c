"""Temporary chat: a switch on a new chat; not listed; deleted
MUSE_TEMPORARY_HOURS after its last message by every worker's chore."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from museapp.chat.models import Conversation, Message
from museapp.streams import reaper
from museapp.turns import services as turns
from tests.conftest import holds_slot
from tests.markup import parse_html

pytestmark = pytest.mark.django_db

NOTICE = "Temporary chat: not in your list, search or exports, and deleted 24 hours after its last message."


@pytest.fixture
def logged_in(client, user):
    client.force_login(user)
    return client


def switch(client, conversation, on: bool):
    return client.post(f"/c/{conversation.pk}/temporary/", {"temporary": "on"} if on else {},
                       headers={"HX-Request": "true"})


def aged(conversation, hours: float) -> Conversation:
    Conversation.objects.filter(pk=conversation.pk).update(updated_at=timezone.now() - timedelta(hours=hours))
    return conversation


# --- the switch -------------------------------------------------------------------


def test_a_new_chat_has_the_temporary_chat_switch_off(logged_in, conversation):
    page = parse_html(logged_in.get(f"/c/{conversation.pk}/").content.decode())

    box = page.one("input", id="temporary-switch")
    assert box.attrs["role"] == "switch" and "checked" not in box.attrs
    assert page.one("label", **{"for": "temporary-switch"}).text.strip() == "Temporary chat"
    assert page.one(id="temporary-notice").text == ""


def test_switching_it_on_says_so_and_takes_the_chat_off_the_list(logged_in, conversation, user):
    kept = Conversation.objects.create(user=user, title="Kept")

    response = switch(logged_in, conversation, on=True)

    assert response.status_code == 200
    shown = parse_html(response.content.decode())
    assert " ".join(shown.one(id="temporary-notice").text.split()) == NOTICE
    listed = [li.attrs["id"] for li in shown.one("ul", id="conversation-list").all("li") if "id" in li.attrs]
    assert f"conv-{kept.pk}" in listed and f"conv-{conversation.pk}" not in listed
    conversation.refresh_from_db()
    assert conversation.is_temporary


def test_a_temporary_chat_says_so_at_the_top_and_has_no_sidebar_entry(logged_in, conversation):
    Conversation.objects.filter(pk=conversation.pk).update(is_temporary=True)
    Message.objects.create(conversation=conversation, author="user", content="a secret")

    page = parse_html(logged_in.get(f"/c/{conversation.pk}/").content.decode())

    assert " ".join(page.one(id="temporary-notice").text.split()) == NOTICE
    assert page.all("li", id=f"conv-{conversation.pk}") == []
    assert page.all("input", id="temporary-switch") == [], "fixed once a message is sent"


def test_switching_it_off_lists_the_chat_again(logged_in, conversation):
    switch(logged_in, conversation, on=True)

    response = switch(logged_in, conversation, on=False)

    shown = parse_html(response.content.decode())
    assert shown.one(id="temporary-notice").text == ""
    assert shown.one("li", id=f"conv-{conversation.pk}")
    conversation.refresh_from_db()
    assert not conversation.is_temporary


def test_once_a_message_is_sent_the_switch_changes_nothing(logged_in, conversation):
    Message.objects.create(conversation=conversation, author="user", content="hello")

    response = switch(logged_in, conversation, on=True)

    assert response.status_code == 400
    assert b"only before its first message" in response.content
    conversation.refresh_from_db()
    assert not conversation.is_temporary


def test_someone_elses_chat_cannot_be_switched(conversation, other_user):
    attacker = Client()
    attacker.force_login(other_user)

    assert switch(attacker, conversation, on=True).status_code == 404
    conversation.refresh_from_db()
    assert not conversation.is_temporary


# --- expiry -----------------------------------------------------------------------


def test_temporary_chats_past_the_limit_are_deleted_and_fresh_ones_stay(user):
    old = aged(Conversation.objects.create(user=user, is_temporary=True), hours=25)
    Message.objects.create(conversation=old, author="user", content="gone soon")
    fresh = aged(Conversation.objects.create(user=user, is_temporary=True), hours=23)

    assert turns.temporary_chats_expire() == 1

    assert list(Conversation.objects.values_list("pk", flat=True)) == [fresh.pk]
    assert not Message.objects.exists()


def test_an_ordinary_chat_is_never_deleted_however_old(user):
    ancient = aged(Conversation.objects.create(user=user, title="Keep me"), hours=24 * 3650)

    assert turns.temporary_chats_expire() == 0

    assert Conversation.objects.filter(pk=ancient.pk).exists()


def test_the_limit_is_a_setting(user, settings):
    settings.MUSE_TEMPORARY_HOURS = 1
    chat = aged(Conversation.objects.create(user=user, is_temporary=True), hours=2)

    turns.temporary_chats_expire()

    assert not Conversation.objects.filter(pk=chat.pk).exists()


def test_an_expired_chat_with_an_answer_running_stops_it_and_gives_its_slot_back(
        user, conversation, django_capture_on_commit_callbacks):
    Conversation.objects.filter(pk=conversation.pk).update(is_temporary=True)
    answer = turns.turn_start(conversation=conversation, text="a long story").answer  # no worker: it stays running
    assert holds_slot(user, answer.stream)

    with django_capture_on_commit_callbacks(execute=True):
        turns.temporary_chats_expire(now=timezone.now() + timedelta(hours=25))

    assert not Conversation.objects.filter(pk=conversation.pk).exists()
    assert not holds_slot(user, answer.stream)


def test_every_worker_expires_them_as_a_chore_of_its_reaper(user):
    chat = aged(Conversation.objects.create(user=user, is_temporary=True), hours=25)

    done = reaper.Chores().do_due()

    assert "expire temporary chats" in done
    assert not Conversation.objects.filter(pk=chat.pk).exists()
