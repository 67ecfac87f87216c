"""Sharing a conversation in a real browser: the person shares from the
conversation's menu (at desk and phone width), and someone logged out opens
the link: a read-only snapshot, no controls, no socket, no name, the drafts
only when chosen, gone once sharing stops."""

import re

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from museapp.chat.models import Conversation
from tests.browser.test_accessibility import serious_violations
from tests.browser.test_chat_flow import sign_up
from tests.browsers import RECORD_VIOLATIONS
from tests.fakellm import Reply
from tests.security.test_xss import PAYLOADS
from tests.sharing.conftest import answered, with_drafts

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CONTROLS = ["Send", "Thumbs up", "Thumbs down", "Regenerate", "Edit", "Retry", "Stop", "Copy", "Share",
            "New chat", "Log out", "Chats", "Previous version", "Next version"]


@pytest.fixture
def stranger(browser, live_server_url, htmx_errors):
    """Someone logged out, in a browser of their own: records the sockets
    it opens and any policy violation."""
    context = browser.new_context(base_url=live_server_url, viewport={"width": 1100, "height": 800})
    htmx_errors.watch(context)
    context.add_init_script(RECORD_VIOLATIONS)
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.sockets = []
    page.on("websocket", lambda socket: page.sockets.append(socket.url))
    yield page
    context.close()


def send(page, text: str) -> None:
    page.get_by_role("textbox", name="Message").fill(text)
    page.get_by_role("button", name="Send").click()
    answer = page.locator('article[data-author="assistant"]').last
    expect(answer).to_have_attribute("data-status", "done", timeout=30_000)


def panel_of(page, title: str):
    """The share panel in the conversation's menu."""
    return page.locator(".conversation-item", has=page.get_by_label(f"Actions for {title}")).locator(".share")


def share(page, title: str, *, drafts: bool = False) -> str:
    """Share from the conversation's menu (opened if closed); the link shown."""
    if page.locator("details.conversation-actions[open]").count() == 0:
        page.get_by_label(f"Actions for {title}").click()
    panel = panel_of(page, title)
    panel.get_by_role("checkbox", name="Include agents' drafts").set_checked(drafts)
    with page.expect_response(lambda response: response.url.endswith("/share/")):
        panel.get_by_role("button", name="Share", exact=True).click()
    field = panel.get_by_role("textbox", name="Share link")
    expect(field).to_have_value(re.compile(r"^http://127\.0\.0\.1:\d+/s/[A-Za-z0-9_-]{43}/$"))
    return field.input_value()


def seeded_chat(username: str, *contents: str) -> Conversation:
    """A conversation of ``username``'s, made in the database: a question
    and a contemplated answer with its drafts."""
    user = get_user_model().objects.get(username=username)
    conversation = Conversation.objects.create(user=user, title="Tea for a cold morning")
    question, answer, draft = contents or ("Which tea warms best?", "**Ginger** tea.", "The skeptic says black tea.")
    _, said = answered(conversation, question, answer)
    with_drafts(said, ("Skeptic", draft), ("Optimist", "Ginger, surely."))
    return conversation


def test_a_person_shares_and_someone_logged_out_reads_the_snapshot_then_it_stops(page, stranger, llm, clipboard):
    llm.script("Which tea warms best?", Reply(text="**Ginger** tea, with honey."))
    llm.script("And in the evening?", Reply(text="Chamomile: no caffeine."))
    sign_up(page, "ada")
    send(page, "Which tea warms best?")

    link = share(page, "Which tea warms best?")
    panel = panel_of(page, "Which tea warms best?")
    expect(panel.get_by_role("button", name="Stop sharing")).to_be_visible()
    panel.get_by_role("button", name="Copy link").click()
    expect(panel.get_by_role("button", name="Copied")).to_be_visible()
    assert clipboard() == link

    stranger.goto(link)
    expect(stranger.get_by_role("heading", name="Which tea warms best?", exact=True)).to_be_visible()
    history = stranger.get_by_role("region", name="Chat history")
    expect(history.get_by_text("Ginger", exact=True)).to_have_js_property("tagName", "STRONG")
    for name in CONTROLS:
        expect(stranger.get_by_role("button", name=name, exact=True)).to_have_count(0)
    expect(stranger.get_by_role("button")).to_have_count(0)
    expect(stranger.get_by_role("textbox")).to_have_count(0)
    expect(stranger.get_by_role("navigation")).to_have_count(0)
    assert "ada" not in stranger.locator("body").inner_text()
    assert stranger.locator('meta[name="robots"]').get_attribute("content") == "noindex"

    send(page, "And in the evening?")
    assert share(page, "Which tea warms best?") == link, "sharing again keeps the link"
    stranger.reload()
    expect(history.get_by_text("Chamomile: no caffeine.")).to_be_visible()

    panel.get_by_role("button", name="Stop sharing").click()
    expect(panel.get_by_role("status")).to_have_text("Stopped sharing: the link no longer opens.")
    assert stranger.reload().status == 404
    assert stranger.sockets == []
    assert stranger.evaluate("window.__cspViolations") == []


def test_drafts_are_shared_only_when_chosen(page, stranger):
    sign_up(page, "bea")
    conversation = seeded_chat("bea")
    page.goto(f"/c/{conversation.pk}/")

    link = share(page, "Tea for a cold morning")
    stranger.goto(link)
    expect(stranger.get_by_text("Ginger tea.")).to_be_visible()
    expect(stranger.get_by_role("region", name="Agents' drafts")).to_have_count(0)
    expect(stranger.get_by_text("The skeptic says black tea.")).to_have_count(0)

    share(page, "Tea for a cold morning", drafts=True)
    stranger.reload()
    drafts = stranger.get_by_role("region", name="Agents' drafts")
    drafts.get_by_text("2 agents' drafts").click()
    drafts.get_by_text("Skeptic", exact=True).click()
    expect(drafts.get_by_text("The skeptic says black tea.")).to_be_visible()
    assert serious_violations(stranger) == []


def test_hostile_markup_in_a_shared_conversation_never_runs(page, stranger):
    dialogs = []
    stranger.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    sign_up(page, "eve")
    hostile = "\n\n".join(PAYLOADS)
    conversation = seeded_chat("eve", hostile, hostile, hostile)
    page.goto(f"/c/{conversation.pk}/")

    stranger.goto(share(page, "Tea for a cold morning", drafts=True))
    stranger.wait_for_load_state("load")

    expect(stranger.locator("article .user-text")).to_have_text(hostile)
    expect(stranger.locator("article .body.markdown")).to_contain_text("<object data=javascript:window.__xss=1></object>")
    assert stranger.evaluate("window.__xss") is None
    assert dialogs == []


def test_at_phone_width_the_person_shares_from_the_drawer_and_the_page_fits(page, stranger):
    sign_up(page, "kit")
    conversation = seeded_chat("kit")
    page.goto(f"/c/{conversation.pk}/")
    page.set_viewport_size({"width": 390, "height": 800})
    page.get_by_role("button", name="Chats").click()

    link = share(page, "Tea for a cold morning")

    panel = panel_of(page, "Tea for a cold morning")
    expect(panel.get_by_role("textbox", name="Share link")).to_be_focused()
    for control in (panel.get_by_role("textbox", name="Share link"), panel.get_by_role("button", name="Copy link"),
                    panel.get_by_role("button", name="Stop sharing")):
        expect(control).to_be_in_viewport()
    stranger.set_viewport_size({"width": 390, "height": 800})
    stranger.goto(link)
    expect(stranger.get_by_text("Ginger tea.")).to_be_visible()
    assert stranger.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "no sideways scrolling"


def test_settings_lists_the_link_and_stops_it(page, stranger):
    sign_up(page, "lin")
    conversation = seeded_chat("lin")
    page.goto(f"/c/{conversation.pk}/")
    link = share(page, "Tea for a cold morning")

    page.goto("/settings/")
    section = page.get_by_role("region", name="Shared links")
    expect(section.get_by_role("link", name="Tea for a cold morning")).to_be_visible()
    expect(section.get_by_role("textbox", name="Share link")).to_have_value(link)
    assert serious_violations(page) == []
    section.get_by_role("button", name="Stop sharing").click()

    expect(page.get_by_role("status")).to_have_text("Stopped sharing “Tea for a cold morning”.")
    expect(page.get_by_role("region", name="Shared links")).to_contain_text("You share no conversations.")
    assert stranger.goto(link).status == 404
