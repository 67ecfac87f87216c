"""Copy under every message, and the keyboard shortcuts (listed in a dialog
opened by "?" or from Settings), in a real browser."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_chat_flow import sign_up
from tests.fakellm import Reply

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ANSWER = "Here is **bold** and `code`."


def watch_labels(button) -> None:
    """Keep every label the button shows from now on in window.__labels
    (the "Copied" moment is too short to poll for on a busy machine)."""
    button.evaluate("""b => { window.__labels = [];
        new MutationObserver(() => window.__labels.push(b.textContent))
            .observe(b, {childList: true, characterData: true, subtree: true}); }""")


def ask(page, text: str):
    page.get_by_role("textbox", name="Message").fill(text)
    page.get_by_role("button", name="Send").click()
    return page.locator('article[data-author="assistant"]').last


def test_copy_takes_an_answers_markdown_and_a_persons_text(page, llm, clipboard):
    llm.script("Copy this", Reply(text=ANSWER))
    sign_up(page, "cole")
    answer = ask(page, "Copy this **please**")
    expect(answer).to_have_attribute("data-status", "done")

    copy = answer.get_by_role("button", name="Copy", exact=True)
    watch_labels(copy)
    copy.click()

    page.wait_for_function("() => window.__labels.join() === 'Copied'")
    assert clipboard() == ANSWER, "the Markdown source, not the rendered text"
    page.wait_for_function("() => window.__labels.join() === 'Copied,Copy'")  # and back, a moment later

    mine = page.locator('article[data-author="user"]').last.get_by_role("button", name="Copy", exact=True)
    watch_labels(mine)
    mine.click()
    page.wait_for_function("() => window.__labels.includes('Copied')")
    assert clipboard() == "Copy this **please**"


def test_question_mark_lists_the_shortcuts_and_settings_opens_the_same_list(page):
    sign_up(page, "quin")
    page.locator("body").click(position={"x": 600, "y": 300})
    page.keyboard.press("?")

    dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("New chat")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()

    page.get_by_role("textbox", name="Message").type("what?")
    expect(dialog).to_be_hidden()  # typed into the composer, ? is just a character
    page.get_by_role("link", name="Settings", exact=True).click()
    page.get_by_role("button", name="Keyboard shortcuts").click()
    expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_be_visible()


def test_the_shortcuts_copy_the_last_answer_stop_an_answer_and_open_a_new_chat(page, llm, clipboard):
    llm.script("First question", Reply(text=ANSWER))
    llm.script("Slow question", Reply(text="slow " * 400, token_delay=0.05))
    sign_up(page, "kay")
    expect(ask(page, "First question")).to_have_attribute("data-status", "done")

    watch_labels(page.locator('article[data-author="assistant"]').last.get_by_role("button", name="Copy", exact=True))
    page.keyboard.press("Control+Shift+C")
    page.wait_for_function("() => window.__labels.includes('Copied')")
    assert clipboard() == ANSWER

    slow = ask(page, "Slow question")
    expect(slow).to_contain_text("slow slow")
    page.keyboard.press("Escape")
    expect(slow).to_have_attribute("data-status", "stopped")

    chat_url = page.url
    page.keyboard.press("Control+Shift+O")
    expect(page).not_to_have_url(chat_url)
    expect(page).to_have_url(re.compile(r"/c/\d+/$"))
    expect(page.locator("article")).to_have_count(0)
