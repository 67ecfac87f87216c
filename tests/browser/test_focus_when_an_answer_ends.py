"""An answer that ends is drawn again in place; a keyboard user's focus in it
moves to the finished answer's next control instead of falling to the page."""

import pytest
from playwright.sync_api import expect

from tests.browser.test_chat_flow import sign_up
from tests.browser.test_versions_and_edit import ask
from tests.fakellm import Reply

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_focus_on_stop_moves_to_copy_when_the_answer_finishes(page, llm):
    llm.script("Describe the sea", Reply(text="Waves fold over stones. " * 10, token_delay=0.1))
    sign_up(page, "marin")
    answer = ask(page, "Describe the sea", status="streaming")
    answer.get_by_role("button", name="Stop").focus()
    expect(answer.get_by_role("button", name="Stop")).to_be_focused()

    expect(answer).to_have_attribute("data-status", "done", timeout=15_000)
    expect(answer.get_by_role("button", name="Copy")).to_be_focused()
    page.keyboard.press("Tab")
    expect(answer.get_by_role("button", name="Regenerate", exact=True)).to_be_focused()


def test_stopping_by_keyboard_leaves_the_focus_on_the_stopped_answer(page, llm):
    llm.script("Describe the hills", Reply(text="Green slopes roll on. " * 100, token_delay=0.05))
    sign_up(page, "hilde")
    answer = ask(page, "Describe the hills", status="streaming")
    expect(answer).to_contain_text("Green slopes")
    answer.get_by_role("button", name="Stop").focus()
    page.keyboard.press("Enter")

    expect(answer).to_have_attribute("data-status", "stopped")
    expect(answer.get_by_role("button", name="Copy")).to_be_focused()
