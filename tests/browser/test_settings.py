"""A person changes a preference on the Settings page, in a real browser."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from playwright.sync_api import expect

from museapp.chat.models import Conversation

from tests.browser.test_chat_flow import sign_up
from tests.fakellm import Reply

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_person_turns_blind_comparisons_off_and_it_stays_off(page, csp_violations):
    sign_up(page, "hedy")

    page.get_by_role("navigation", name="Conversations").get_by_role("link", name="Settings", exact=True).click()
    expect(page.get_by_role("heading", name="Settings")).to_be_visible()
    switch = page.get_by_role("switch", name="Blind comparisons")
    expect(switch).to_be_checked()
    expect(switch).to_have_accessible_description(re.compile(r"^Now and then, when you use Contemplating"))
    switch.uncheck()
    page.get_by_role("button", name="Save").click()

    expect(page.get_by_role("status")).to_have_text("Saved.")
    expect(page.get_by_role("switch", name="Blind comparisons")).not_to_be_checked()
    page.reload()
    expect(page.get_by_role("switch", name="Blind comparisons")).not_to_be_checked()
    expect(page.get_by_role("status")).to_have_count(0)
    page.get_by_role("link", name="Back to chat").click()
    expect(page.get_by_role("textbox", name="Message")).to_be_visible()
    assert csp_violations() == []


def test_the_phone_drawer_links_to_settings(page):
    sign_up(page, "radia")
    page.set_viewport_size({"width": 390, "height": 800})
    settings_link = page.get_by_role("link", name="Settings", exact=True)
    expect(settings_link).not_to_be_in_viewport()

    page.get_by_role("button", name="Chats").click()

    expect(settings_link).to_be_in_viewport()
    settings_link.click()
    expect(page.get_by_role("heading", name="Settings")).to_be_visible()


def test_custom_instructions_typed_in_settings_reach_the_model_and_the_answer_says_so(page, llm):
    llm.script("Suggest a hobby", Reply(text="Beekeeping."))
    sign_up(page, "bea")
    page.get_by_role("link", name="Settings", exact=True).click()
    page.get_by_role("textbox", name="What should Muse know about you?").fill("I live by the sea.")
    page.get_by_role("textbox", name="How should Muse answer?").fill("Briefly, please.")
    expect(page.get_by_role("switch", name="Use my instructions")).to_be_checked()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_have_text("Saved.")

    page.get_by_role("link", name="Back to chat").click()
    page.get_by_role("textbox", name="Message").fill("Suggest a hobby")
    page.get_by_role("button", name="Send").click()
    answer = page.locator('article[data-author="assistant"]').last
    expect(answer).to_have_attribute("data-status", "done")

    expect(answer.locator(".meta")).to_contain_text("your instructions")
    [request] = llm.requests_matching("Suggest a hobby")
    assert "I live by the sea." in request["messages"][0]["content"]
    assert "Briefly, please." in request["messages"][0]["content"]


def test_a_person_deletes_their_account_and_can_no_longer_log_in(page, llm, csp_violations):
    llm.script("Remember tea", Reply(text="Noted."))
    sign_up(page, "ada-leaving")
    page.get_by_role("textbox", name="Message").fill("Remember tea")
    page.get_by_role("button", name="Send").click()
    expect(page.locator("article.message.assistant").last).to_have_attribute("data-status", "done")

    page.get_by_role("navigation", name="Conversations").get_by_role("link", name="Settings", exact=True).click()
    page.get_by_role("link", name="Delete my account").click()
    page.set_viewport_size({"width": 390, "height": 800})  # on a phone: nothing wider than the screen
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.get_by_label("Your password").fill("not it")
    page.get_by_role("button", name="Delete my account").click()
    expect(page.get_by_role("alert")).to_contain_text("That is not your password. Nothing was deleted.")
    page.get_by_label("Your password").fill("correct horse 42")
    page.get_by_role("button", name="Delete my account").click()

    expect(page.get_by_role("status")).to_have_text("Your account and everything in it are deleted.")
    page.get_by_label("Username").fill("ada-leaving")
    page.get_by_label("Password").fill("correct horse 42")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_be_visible()
    expect(page.get_by_role("textbox", name="Message")).to_have_count(0)
    assert csp_violations() == []


def test_settings_and_back_from_an_older_chat_opens_that_chat(page):
    sign_up(page, "grete")
    older = Conversation.objects.create(user=get_user_model().objects.get(username="grete"), title="Older chat")
    Conversation.objects.filter(pk=older.pk).update(updated_at=timezone.now() - timedelta(days=3))
    page.goto(f"/c/{older.pk}/")

    page.get_by_role("link", name="Settings", exact=True).click()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_have_text("Saved.")
    page.get_by_role("link", name="Back to chat").click()

    expect(page).to_have_url(re.compile(rf"/c/{older.pk}/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Older chat")
