"""The Settings page (/settings/) and a person's preferences behind it."""

import pytest
from django.test import Client

from museapp.chat.models import Conversation, Preferences
from museapp.chat.services import preferences_for, preferences_update
from tests.markup import Element, parse_html

pytestmark = pytest.mark.django_db

DESCRIPTION = (
    "Now and then, when you use Contemplating, Muse also writes a quick answer and shows both "
    "side by side without saying which is which, so you can say which you prefer. Your choices "
    "show whether contemplating is worth its wait."
)


@pytest.fixture
def logged_in(client, user):
    client.force_login(user)
    return client


def settings_page(client) -> Element:
    response = client.get("/settings/")
    assert response.status_code == 200
    return parse_html(response.content.decode())


def switch_on(page: Element) -> Element:
    return page.one("input", type="checkbox", role="switch", name="compare_answers")


def label_of(page: Element, field: Element) -> str:
    return page.one("label", **{"for": field.attrs["id"]}).text.strip()


# --- the page -------------------------------------------------------------------


def test_it_shows_the_blind_comparisons_switch_on_by_default(logged_in):
    page = settings_page(logged_in)

    switch = switch_on(page)
    assert page.one("h1").text == "Settings"
    assert "checked" in switch.attrs
    assert label_of(page, switch) == "Blind comparisons"
    description = page.one(id=switch.attrs["aria-describedby"])
    assert description.text == DESCRIPTION
    assert page.one("form", **{"class": "settings-form"}).one("button", type="submit").text == "Save"
    assert page.one("a", href="/").text == "Back to chat"
    assert not page.all(role="status")


def test_saving_it_off_lands_in_the_database_and_shows_it_off_on_reload(logged_in, user):
    response = logged_in.post("/settings/", {})  # an unticked checkbox is not posted

    assert response.status_code == 302
    assert response["Location"] == "/settings/"
    assert Preferences.objects.get(user=user).compare_answers is False
    saved = parse_html(logged_in.get("/settings/").content.decode())
    assert saved.one(role="status").text == "Saved."
    assert "checked" not in switch_on(saved).attrs
    reloaded = settings_page(logged_in)
    assert "checked" not in switch_on(reloaded).attrs
    assert not reloaded.all(role="status")  # "Saved." is said once


def test_saving_it_on_again_keeps_one_row(logged_in, user):
    logged_in.post("/settings/", {})
    logged_in.post("/settings/", {"compare_answers": "on"})

    assert Preferences.objects.get(user=user).compare_answers is True
    assert "checked" in switch_on(settings_page(logged_in)).attrs


def test_a_post_without_the_csrf_token_is_refused_and_saves_nothing(user):
    forger = Client(enforce_csrf_checks=True)
    forger.force_login(user)

    response = forger.post("/settings/", {})

    assert response.status_code == 403
    assert not Preferences.objects.exists()


def test_a_post_with_the_csrf_token_is_accepted(user):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)
    token = settings_page(browser).one("input", name="csrfmiddlewaretoken").attrs["value"]

    response = browser.post("/settings/", {"csrfmiddlewaretoken": token})

    assert response.status_code == 302
    assert Preferences.objects.get(user=user).compare_answers is False


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_logged_out_visitor_is_sent_to_log_in(client, method):
    response = getattr(client, method)("/settings/", {})

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/settings/"
    assert not Preferences.objects.exists()


def test_each_person_sees_only_their_own_preferences(logged_in, user, other_user):
    preferences_update(user=other_user, compare_answers=False)

    assert "checked" in switch_on(settings_page(logged_in)).attrs


def test_the_chat_sidebar_links_to_settings(logged_in, user):
    conversation = Conversation.objects.create(user=user)

    page = parse_html(logged_in.get(f"/c/{conversation.pk}/").content.decode())

    sidebar = page.one("nav", id="sidebar")
    assert [a.attrs["href"] for a in sidebar.all("a") if a.text.strip() == "Settings"] == [
        f"/settings/?from={conversation.pk}"]


def back_to_chat(client, path: str) -> str:
    page = parse_html(client.get(path).content.decode())
    return next(a.attrs["href"] for a in page.all("a") if a.text.strip() == "Back to chat")


def test_back_to_chat_opens_the_conversation_settings_were_opened_from(logged_in, user):
    older = Conversation.objects.create(user=user, title="Older")
    Conversation.objects.create(user=user, title="Newer")

    assert back_to_chat(logged_in, f"/settings/?from={older.pk}") == f"/c/{older.pk}/"


@pytest.mark.parametrize("came_from", ["", "abc", "0", "999999", "theirs"])
def test_back_to_chat_from_anywhere_else_opens_the_newest(logged_in, other_user, came_from):
    if came_from == "theirs":
        came_from = str(Conversation.objects.create(user=other_user, title="Not yours").pk)

    assert back_to_chat(logged_in, f"/settings/?from={came_from}") == "/"


def test_saving_keeps_the_way_back(logged_in, user):
    older = Conversation.objects.create(user=user, title="Older")

    response = logged_in.post(f"/settings/?from={older.pk}", {})

    assert response["Location"] == f"/settings/?from={older.pk}"
    assert back_to_chat(logged_in, response["Location"]) == f"/c/{older.pk}/"


# --- the services ---------------------------------------------------------------


def test_preferences_for_returns_the_defaults_without_writing_a_row(user):
    preferences = preferences_for(user_id=user.pk)

    assert preferences.compare_answers is True
    assert preferences.pk is None
    assert preferences.user_id == user.pk
    assert not Preferences.objects.exists()


def test_preferences_for_returns_the_saved_row(user):
    saved = preferences_update(user=user, compare_answers=False)

    assert preferences_for(user_id=user.pk) == saved
    assert preferences_for(user_id=user.pk).compare_answers is False


def test_preferences_update_changes_the_one_row_in_place(user):
    first = preferences_update(user=user, compare_answers=False)
    second = preferences_update(user=user, compare_answers=True)

    assert first.pk == second.pk
    assert Preferences.objects.get(user=user).compare_answers is True
