"""Regenerate, flip between versions, edit a question into a new branch and
go back to the old one, in a real browser; reload keeps what was shown."""

import pytest
from playwright.sync_api import expect

from tests.browser.test_chat_flow import sign_up
from tests.fakellm import Reply

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def ask(page, text: str, status: str = "done"):
    """Send ``text``; its answer, once it has ``status``."""
    page.get_by_role("textbox", name="Message").fill(text)
    page.get_by_role("button", name="Send").click()
    answer = page.locator('article[data-author="assistant"]').last
    expect(answer).to_have_attribute("data-status", status)
    return answer


def last_answer(page):
    return page.locator('article[data-author="assistant"]').last


def test_regenerate_twice_then_flip_between_the_three_versions_and_reload(page, llm):
    llm.script("Name a tea", Reply(text="Matcha."))
    for reply in ("Gyokuro.", "Sencha."):  # the newest rule is tried first
        llm.script("Name a tea", Reply(text=reply), times=1)
    sign_up(page, "vera")
    expect(ask(page, "Name a tea").locator(".body")).to_have_text("Sencha.")

    for text, count in (("Gyokuro.", "2 / 2"), ("Matcha.", "3 / 3")):
        last_answer(page).get_by_role("button", name="Regenerate", exact=True).click()
        expect(last_answer(page).locator(".body")).to_have_text(text)
        expect(last_answer(page)).to_have_attribute("data-status", "done")
        expect(last_answer(page).locator(".version-count")).to_have_text(count)

    for text, count in (("Gyokuro.", "2 / 3"), ("Sencha.", "1 / 3")):
        last_answer(page).get_by_role("button", name="Previous version").click()
        expect(last_answer(page).locator(".version-count")).to_have_text(count)
        expect(last_answer(page).locator(".body")).to_have_text(text)
    expect(last_answer(page).get_by_role("button", name="Previous version")).to_be_disabled()
    expect(page.locator("article")).to_have_count(2)

    page.reload()
    expect(last_answer(page).locator(".body")).to_have_text("Sencha.")
    expect(last_answer(page).locator(".version-count")).to_have_text("1 / 3")
    last_answer(page).get_by_role("button", name="Next version").click()
    expect(last_answer(page).locator(".body")).to_have_text("Gyokuro.")


def test_regenerate_with_contemplating_from_the_menu(page, llm):
    llm.script("Name a herb", Reply(text="Final answer: mint"))
    sign_up(page, "herb")
    ask(page, "Name a herb")

    last_answer(page).get_by_label("Other ways to regenerate").click()
    last_answer(page).get_by_role("button", name="Regenerate with Contemplating").click()

    expect(last_answer(page).locator(".contemplation")).to_be_visible()
    expect(last_answer(page)).to_have_attribute("data-status", "done", timeout=30_000)
    expect(last_answer(page).locator(".version-count")).to_have_text("2 / 2")


def test_edit_a_question_see_its_answer_then_go_back_to_the_old_branch_and_continue_it(page, llm):
    llm.script("green tea", Reply(text="Sencha."))
    llm.script("black tea", Reply(text="Assam."))
    llm.script("Is it bitter", Reply(text="A little."))
    sign_up(page, "eddy")
    ask(page, "Name a green tea")

    question = page.locator('article[data-author="user"]').first
    question.get_by_role("button", name="Edit").click()
    editor = question.get_by_role("textbox", name="Edit your message")
    expect(editor).to_have_value("Name a green tea")
    expect(editor).to_be_focused()
    editor.fill("Name a black tea")
    question.get_by_role("button", name="Save and send").click()

    expect(last_answer(page).locator(".body")).to_have_text("Assam.")
    expect(page.locator('article[data-author="user"]').first.locator(".body")).to_have_text("Name a black tea")
    expect(page.locator('article[data-author="user"]').first.locator(".version-count")).to_have_text("2 / 2")

    page.locator('article[data-author="user"]').first.get_by_role("button", name="Previous version").click()
    expect(page.locator('article[data-author="user"]').first.locator(".body")).to_have_text("Name a green tea")
    expect(last_answer(page).locator(".body")).to_have_text("Sencha.")
    ask(page, "Is it bitter?")
    expect(page.locator("article")).to_have_count(4)
    page.reload()
    expect(page.locator("article .body")).to_have_text(["Name a green tea", "Sencha.", "Is it bitter?", "A little."])


def test_cancel_closes_the_editor_and_arrow_up_opens_the_last_message(page, llm):
    llm.script("First", Reply(text="One."))
    llm.script("Second", Reply(text="Two."))
    sign_up(page, "upton")
    ask(page, "First")
    ask(page, "Second")

    page.get_by_role("textbox", name="Message").press("ArrowUp")
    editor = page.get_by_role("textbox", name="Edit your message")
    expect(editor).to_be_focused()
    expect(editor).to_have_value("Second")
    page.get_by_role("button", name="Cancel").click()
    expect(editor).to_have_count(0)
    expect(page.locator('article[data-author="user"]').last.locator(".body")).to_be_visible()


def test_flipping_versions_by_keyboard_keeps_the_focus_on_the_version_controls(page, llm):
    llm.script("Name a fruit", Reply(text="Pear."))
    llm.script("Name a fruit", Reply(text="Apple."), times=1)
    sign_up(page, "kiri")
    expect(ask(page, "Name a fruit").locator(".body")).to_have_text("Apple.")
    last_answer(page).get_by_role("button", name="Regenerate", exact=True).click()
    expect(last_answer(page).locator(".version-count")).to_have_text("2 / 2")
    expect(last_answer(page)).to_have_attribute("data-status", "done")

    last_answer(page).get_by_role("button", name="Previous version").focus()
    page.keyboard.press("Enter")

    expect(last_answer(page).locator(".version-count")).to_have_text("1 / 2")
    expect(last_answer(page).get_by_role("button", name="Next version")).to_be_focused()  # Previous is disabled now
    page.keyboard.press("Enter")
    expect(last_answer(page).locator(".version-count")).to_have_text("2 / 2")
    expect(last_answer(page).get_by_role("button", name="Previous version")).to_be_focused()
