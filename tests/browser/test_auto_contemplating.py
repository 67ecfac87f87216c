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


def test_a_person_puts_two_models_to_work_at_once_from_the_strategy_menu(page, llm):
    sign_up(page, "ada-roster")
    page.get_by_role("switch", name="Contemplating", exact=True).check()
    page.get_by_label("Agents' models").select_option(label="Agents: 2 × Fake model + 2 × Fake model two")
    page.get_by_role("textbox", name="Message").fill("Name a moon of Mars")
    page.get_by_role("button", name="Send").click()

    answer = page.locator("article.message.assistant").last
    expect(answer).to_have_attribute("data-status", "done", timeout=30_000)
    answer.locator("details.drafts > summary").click()
    expect(answer.locator(".agent-model")).to_have_text([
        "Fake model · t 0.0", "Fake model · t 0.2", "Fake model two · t 0.6", "Fake model two · t 1.0"])
    page.reload()
    expect(page.get_by_label("Agents' models")).to_have_value("2xopenai/fake-model+2xopenai/fake-model-2")
