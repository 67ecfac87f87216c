"""A first screen that explains itself, and the phone's drawer, in a real
browser."""

import pytest
from playwright.sync_api import expect

from tests.browser.test_chat_flow import sign_up
from tests.fakellm import Reply

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_empty_chat_greets_and_offers_examples_one_of_which_turns_contemplating_on(page):
    sign_up(page, "eve")

    expect(page.get_by_role("heading", name="Hello, eve. What's on your mind?")).to_be_visible()
    examples = page.get_by_role("list", name="Example prompts").get_by_role("button")
    expect(examples).to_have_count(3)
    contemplating = page.get_by_role("button", name="Is 1,001 prime? Ask with Contemplating")
    expect(contemplating).to_contain_text("agents answer in parallel, then one answer is merged")
    with page.expect_response(lambda response: "/preferences/" in response.url):  # the switch is saved
        contemplating.click()

    expect(page.get_by_role("textbox", name="Message")).to_have_value("Is 1,001 a prime number?")
    expect(page.get_by_role("textbox", name="Message")).to_be_focused()
    expect(page.get_by_role("switch", name="Contemplating")).to_be_checked()
    strategy = page.get_by_role("combobox", name="Merge strategy")
    expect(strategy.locator("option", has_text="Consensus")).to_have_attribute(
        "title", "The draft most like the others wins, no judge")
    expect(strategy).to_have_accessible_description("A judge writes one answer from the best of the drafts.")
    page.reload()
    expect(page.get_by_role("switch", name="Contemplating")).to_be_checked()


def test_the_tab_title_follows_the_conversation_and_the_current_one_stands_out(page, llm):
    llm.script("Plan a picnic", Reply(text="Bring bread."))
    sign_up(page, "tim")
    page.get_by_role("textbox", name="Message").fill("Plan a picnic")
    page.get_by_role("button", name="Send").click()

    expect(page).to_have_title("Plan a picnic · Muse")
    current = page.locator(".conversation-item.current")
    expect(current.get_by_role("link")).to_have_attribute("title", "Plan a picnic")
    assert current.evaluate("item => getComputedStyle(item).boxShadow") != "none", "an accent bar"


def test_the_phone_drawer_has_a_backdrop_closes_on_escape_and_is_inert_while_closed(page):
    sign_up(page, "ada")
    page.set_viewport_size({"width": 390, "height": 800})
    sidebar = page.locator("#sidebar")

    page.wait_for_function("() => document.getElementById('sidebar').inert === true")
    page.get_by_role("button", name="Chats").click()
    expect(page.locator(".drawer-backdrop")).to_be_visible()
    assert sidebar.evaluate("s => s.inert") is False
    page.keyboard.press("Escape")

    expect(page.locator(".drawer-backdrop")).to_be_hidden()
    expect(page.get_by_role("button", name="Chats")).to_be_focused()
    assert sidebar.evaluate("s => s.inert") is True
    page.get_by_role("button", name="Chats").click()
    page.locator(".drawer-backdrop").click(position={"x": 370, "y": 400})
    expect(page.locator(".drawer-backdrop")).to_be_hidden()


def test_at_phone_width_tab_skips_the_closed_drawer_and_walks_the_open_one(page):
    sign_up(page, "kit")
    page.set_viewport_size({"width": 390, "height": 800})
    page.wait_for_function("() => document.getElementById('sidebar').inert === true")
    in_drawer = "() => document.getElementById('sidebar').contains(document.activeElement)"

    page.get_by_role("button", name="Chats").focus()
    for _ in range(12):
        page.keyboard.press("Tab")
        assert page.evaluate(in_drawer) is False, "nothing off-screen takes the focus"

    page.get_by_role("button", name="Chats").click()
    expect(page.get_by_role("button", name="New chat")).to_be_focused()
    page.keyboard.press("Tab")
    assert page.evaluate(in_drawer) is True, "the next stop is in the drawer too"
    page.keyboard.press("Escape")
    expect(page.get_by_role("button", name="Chats")).to_be_focused()
