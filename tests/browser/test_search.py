"""Searching conversations in a real browser: Ctrl+K, results as one types
with the words marked (and a message's markup shown as text), a result
opening its conversation at the message, marked; on a desktop and in the
phone's drawer."""

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from museapp.chat.models import Conversation, Message
from tests.browser.test_chat_flow import sign_up
from tests.trees import link_in_order

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

XSS = '<img src=x onerror="window.pwned=1"> <script>window.pwned=1</script> What do walruses eat?'


def long_conversation_with_a_walrus(username: str) -> Message:
    """A conversation whose walrus question is older than its first page."""
    person = get_user_model().objects.get(username=username)
    conversation = Conversation.objects.create(user=person, title="Arctic animals")
    Message.objects.bulk_create(
        Message(conversation=conversation, author=author, content=XSS if (i, author) == (3, "user") else f"{author} {i}")
        for i in range(120) for author in ("user", "assistant"))
    link_in_order()
    return conversation.messages.get(content=XSS)


def search_for_walruses(page) -> None:
    box = page.get_by_role("searchbox", name="Search conversations")
    page.keyboard.press("Control+k")
    expect(box).to_be_focused()
    box.press_sequentially("walru")
    result = page.locator("#search-results").get_by_role("link", name="Arctic animals")
    expect(result).to_be_visible()
    expect(result.locator("mark")).to_have_text("walruses")
    expect(page.locator("#search-results img")).to_have_count(0)  # the message's markup is text (or, on PostgreSQL, left out)
    assert page.locator("#search-results script").count() == 0


def test_ctrl_k_search_and_a_result_opening_at_its_message(page):
    sign_up(page, "ada")
    found = long_conversation_with_a_walrus("ada")
    page.reload()

    search_for_walruses(page)
    expect(page.locator("#conversation-list")).to_be_hidden()
    assert page.evaluate("window.pwned") is None
    page.get_by_role("searchbox", name="Search conversations").fill("")
    page.get_by_role("searchbox", name="Search conversations").press("Enter")  # type=search: as a clear does
    expect(page.locator("#conversation-list")).to_be_visible()
    expect(page.locator("#search-results")).to_be_hidden()

    search_for_walruses(page)
    page.locator("#search-results").get_by_role("link", name="Arctic animals").click()

    marked = page.locator(f"article[data-message-id='{found.pk}']")
    expect(marked).to_have_attribute("data-found", "true")
    expect(marked).to_be_in_viewport()
    assert page.evaluate("window.pwned") is None


def test_at_phone_width_ctrl_k_opens_the_drawer_and_a_result_opens_at_its_message(page):
    sign_up(page, "kit")
    found = long_conversation_with_a_walrus("kit")
    page.set_viewport_size({"width": 390, "height": 800})
    page.reload()
    page.wait_for_function("() => document.getElementById('sidebar').inert === true")

    search_for_walruses(page)
    expect(page.locator(".drawer-backdrop")).to_be_visible()
    page.locator("#search-results").get_by_role("link", name="Arctic animals").click()

    marked = page.locator(f"article[data-message-id='{found.pk}']")
    expect(marked).to_have_attribute("data-found", "true")
    expect(marked).to_be_in_viewport()
    expect(page.locator(".drawer-backdrop")).to_be_hidden()
