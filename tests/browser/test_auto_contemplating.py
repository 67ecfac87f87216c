"""Contemplating: Auto in a real browser: a quick answer the model was unsure
of is checked by the agents, the merged answer replaces it, and the quick
one is the version before."""

import pytest
from playwright.sync_api import expect

from tests.browser.test_chat_flow import sign_up
from tests.fakellm import Reply

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_unsure_quick_answer_is_checked_by_the_agents_and_kept_as_the_version_before(page, llm, csp_violations):
    llm.script("Which planet is largest", Reply(text="Saturn, maybe.", logprob=-2.5))  # the quick answer
    llm.script("Which planet is largest", Reply(text="Jupiter is.\nFinal answer: Jupiter", logprob=-0.1),
               system="Final answer")  # the agents
    sign_up(page, "ada-auto")

    auto = page.get_by_role("checkbox", name="Contemplating: Auto")
    auto.focus()
    page.keyboard.press("Space")  # reachable and usable from the keyboard
    expect(auto).to_be_checked()
    page.get_by_role("textbox", name="Message").fill("Which planet is largest")
    page.get_by_role("button", name="Send").click()

    answer = page.locator("article.message.assistant").last
    expect(answer.get_by_text("Muse was unsure, so 4 agents checked.")).to_be_visible(timeout=30_000)
    expect(answer).to_have_attribute("data-status", "done")
    expect(answer.locator(".body").first).to_contain_text("Jupiter")
    answer.get_by_role("button", name="Previous version").click()
    expect(page.locator("article.message.assistant").last).to_contain_text("Saturn, maybe.")

    page.reload()
    expect(page.get_by_role("checkbox", name="Contemplating: Auto")).to_be_checked()
    assert csp_violations() == []
