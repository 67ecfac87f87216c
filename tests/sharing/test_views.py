"""The share panel in a conversation's menu, the public read-only page of a
link, and "Shared links" in Settings."""

import re

import pytest
from django.test import Client

from museapp.chat.models import Conversation
from museapp.chat.services import preferences_update
from museapp.sharing.models import SharedLink
from tests.markup import Element, parse_html
from tests.security.test_xss import PAYLOADS, problems_in, shown_as
from tests.sharing.conftest import answered, with_drafts

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def ada(client, user):
    client.force_login(user)
    return client


def share(client, conversation, **data) -> Element:
    response = client.post(f"/c/{conversation.pk}/share/", data, **HTMX)
    assert response.status_code == 200
    return parse_html(response.content.decode())


def public_page(path: str) -> Element:
    response = Client().get(path)
    assert response.status_code == 200
    return parse_html(response.content.decode())


def link_path(conversation) -> str:
    return f"/s/{SharedLink.objects.get(conversation=conversation).token}/"


# --- sharing from the menu ----------------------------------------------------


def test_the_menu_offers_share_with_the_drafts_option_off(ada, tea_chat):
    page = parse_html(ada.get(f"/c/{tea_chat.pk}/").content.decode())

    panel = page.one("li", id=f"conv-{tea_chat.pk}").one("div", id=f"share-{tea_chat.pk}")
    assert panel.one("button", type="submit").text == "Share"
    checkbox = panel.one("input", name="include_drafts")
    assert "checked" not in checkbox.attrs
    assert checkbox.parent.text.strip() == "Include agents' drafts"


def test_sharing_shows_the_link_to_copy_and_to_stop(ada, tea_chat):
    panel = share(ada, tea_chat)

    path = link_path(tea_chat)
    field = panel.one("input", **{"class": "share-link-input"})
    assert panel.one("label", **{"for": field.attrs["id"]}).text == "Share link"
    assert field.attrs["value"] == f"http://testserver{path}"
    copy = panel.one("button", type="button")
    assert (copy.text, copy.attrs["data-copy"]) == ("Copy link", f"http://testserver{path}")
    assert [b.text for b in panel.all("button", type="submit")] == ["Share", "Stop sharing"]


def test_sharing_again_keeps_the_link_and_the_choice(ada, tea_chat):
    share(ada, tea_chat)
    path = link_path(tea_chat)

    panel = share(ada, tea_chat, include_drafts="on")

    assert link_path(tea_chat) == path
    assert "checked" in panel.one("input", name="include_drafts").attrs


def test_a_plain_form_post_shares_and_goes_to_settings(ada, tea_chat):
    response = ada.post(f"/c/{tea_chat.pk}/share/")

    assert (response.status_code, response["Location"]) == (302, "/settings/")
    assert SharedLink.objects.filter(conversation=tea_chat).exists()


def test_an_empty_conversation_says_there_is_nothing_to_share(ada, user):
    conversation = Conversation.objects.create(user=user)

    response = ada.post(f"/c/{conversation.pk}/share/", **HTMX)

    assert response.status_code == 400
    alert = parse_html(response.content.decode()).one(role="alert")
    assert "nothing to share yet" in alert.text
    assert not SharedLink.objects.exists()


def test_sharing_too_often_says_when_to_try_again(ada, tea_chat, settings):
    settings.MUSE_RATE_SHARING = "1/hour"
    share(ada, tea_chat)

    response = ada.post(f"/c/{tea_chat.pk}/share/", **HTMX)

    assert response.status_code == 400
    assert "sharing conversations faster than Muse allows (1 an hour)" in response.content.decode()


def test_stop_sharing_in_the_menu_ends_the_link(ada, tea_chat):
    share(ada, tea_chat)
    path = link_path(tea_chat)

    response = ada.post(f"/c/{tea_chat.pk}/share/stop/", **HTMX)

    panel = parse_html(response.content.decode())
    assert panel.one(role="status").text == "Stopped sharing: the link no longer opens."
    assert not panel.all("input", **{"class": "share-link-input"})
    assert Client().get(path).status_code == 404


def test_someone_logged_out_cannot_share(client, tea_chat):
    response = client.post(f"/c/{tea_chat.pk}/share/")

    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert not SharedLink.objects.exists()


# --- the shared page ------------------------------------------------------------


def test_anyone_with_the_link_reads_the_snapshot_without_logging_in(ada, tea_chat):
    share(ada, tea_chat)

    page = public_page(link_path(tea_chat))

    assert page.one("h1").text == "Tea for a cold morning"
    articles = page.one("section", id="messages").all("article")
    assert [a.attrs["data-author"] for a in articles] == ["user", "assistant", "user", "assistant"]
    assert articles[0].one("div", **{"class": "body user-text"}).text == "Which tea warms best?"
    assert articles[1].one("strong").text == "Ginger"  # rendered as in the app
    assert "Chamomile: no caffeine." in articles[3].text


def test_the_page_asks_not_to_be_indexed(ada, tea_chat):
    share(ada, tea_chat)

    response = Client().get(link_path(tea_chat))

    assert response["X-Robots-Tag"] == "noindex"
    assert response["Referrer-Policy"] == "no-referrer"
    assert "no-cache" in response["Cache-Control"]
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert parse_html(response.content.decode()).one("meta", name="robots").attrs["content"] == "noindex"


def test_the_page_has_no_controls_no_socket_and_no_sidebar(ada, tea_chat):
    share(ada, tea_chat)

    page = public_page(link_path(tea_chat))

    assert page.all("form") == [] and page.all("button") == [] and page.all("textarea") == []
    assert page.all(id="sidebar") == [] and page.all(id="composer") == []
    assert not [e for e in page.all() if "ws-connect" in e.attrs or "hx-post" in e.attrs]


def test_the_page_leaks_nothing_else_of_the_person(ada, user, tea_chat):
    preferences_update(user=user, about_me="I live at 12 Secret Lane.", answer_style="Call me Countess.",
                       instructions_on=True, contemplate_new_chats=False, compare_answers=True)
    other = Conversation.objects.create(user=user, title="My other private chat")
    answered(other, "private question", "private answer")
    share(ada, tea_chat)

    html = Client().get(link_path(tea_chat)).content.decode()
    html = re.sub(r"hx-headers='[^']*'", "", html)  # the CSRF token is random: it could spell anything

    for secret in ["ada", "Secret Lane", "Countess", "My other private chat", "private question",
                   "0.0123", "34 tokens", f"/c/{tea_chat.pk}/", "Skeptic"]:
        assert secret not in html, secret


def test_drafts_show_only_when_chosen(ada, tea_chat):
    share(ada, tea_chat)
    assert "Draft from the skeptic" not in Client().get(link_path(tea_chat)).content.decode()

    share(ada, tea_chat, include_drafts="on")
    page = public_page(link_path(tea_chat))

    drafts = page.one("section", **{"aria-label": "Agents' drafts"})
    assert [r.text for r in drafts.all("span", **{"class": "agent-role"})] == ["Skeptic", "Optimist"]
    assert "Draft from the skeptic: black tea." in drafts.text


def test_hostile_markup_in_messages_and_drafts_stays_text(ada, user):
    conversation = Conversation.objects.create(user=user, title="<script>window.__xss=1</script>")
    hostile = "\n\n".join(PAYLOADS)
    _, answer = answered(conversation, hostile, hostile)
    with_drafts(answer, ("<b>Role</b>", hostile))
    share(ada, conversation, include_drafts="on")

    page = public_page(link_path(conversation))

    assert page.one("h1").text == "<script>window.__xss=1</script>"
    assert page.one("span", **{"class": "agent-role"}).text == "<b>Role</b>"
    bodies = page.all("div", **{"class": "body markdown"}) + page.all("div", **{"class": "agent-body markdown"})
    assert len(bodies) == 2
    assert [problem for body in bodies for problem in problems_in(body)] == []
    assert page.one("div", **{"class": "body user-text"}).text == hostile
    assert [p for p in PAYLOADS if shown_as(p) not in bodies[1].text] == []
    assert page.all("script", src=None) == []


@pytest.mark.parametrize("token", ["nope", "A" * 43, "A" * 300, "%2e%2e"])
def test_an_unknown_link_is_a_404(token):
    assert Client().get(f"/s/{token}/").status_code == 404


def test_a_stopped_link_is_a_404_at_once(ada, tea_chat):
    share(ada, tea_chat)
    path = link_path(tea_chat)
    assert Client().get(path).status_code == 200

    ada.post(f"/c/{tea_chat.pk}/share/stop/")

    assert Client().get(path).status_code == 404


def test_the_page_only_reads(ada, tea_chat):
    share(ada, tea_chat)

    assert Client().post(link_path(tea_chat)).status_code in (403, 405)


# --- Settings ---------------------------------------------------------------


def test_settings_lists_the_persons_links_with_title_time_and_address(ada, tea_chat, other_user):
    theirs = Conversation.objects.create(user=other_user, title="Mallory's plans")
    answered(theirs, "q", "a")
    SharedLink.objects.create(conversation=theirs, token="T" * 43, title="Mallory's plans")
    share(ada, tea_chat)

    page = parse_html(ada.get("/settings/").content.decode())

    section = page.one("section", id="shared-links")
    assert section.one("h2").text == "Shared links"
    items = section.all("li")
    assert len(items) == 1
    assert items[0].one("a").text == "Tea for a cold morning"
    assert items[0].one("span", **{"class": "shared-link-when"}).text.startswith("shared ")
    assert items[0].one("input", type="text").attrs["value"] == f"http://testserver{link_path(tea_chat)}"
    assert items[0].one("label").text.strip() == "Share link"
    assert [b.text for b in items[0].all("button")] == ["Copy link", "Stop sharing"]
    assert "Mallory" not in section.text


def test_settings_says_when_nothing_is_shared(ada):
    page = parse_html(ada.get("/settings/").content.decode())

    assert "You share no conversations." in page.one("section", id="shared-links").text


def test_stop_sharing_in_settings_ends_the_link_and_says_so(ada, tea_chat):
    share(ada, tea_chat)
    path = link_path(tea_chat)

    response = ada.post(f"/c/{tea_chat.pk}/share/stop/", follow=True)

    page = parse_html(response.content.decode())
    assert page.one(role="status").text == "Stopped sharing “Tea for a cold morning”."
    assert page.one("section", id="shared-links").all("li") == []
    assert Client().get(path).status_code == 404
