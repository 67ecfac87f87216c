"""A day's usual actions leave no htmx error in the browser's console: every
out-of-band swap finds its target on the page that receives it. (The
``page`` fixture fails any browser test whose console shows an htmx error;
this one goes through the actions that send such swaps.)"""

import pytest
from playwright.sync_api import expect

from tests.browser.test_chat_flow import sign_up
from tests.browser.test_sidebar_and_temporary_chat import many_conversations, menu_of
from tests.fakellm import Reply

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROLES = ["Direct solver", "Step-by-step reasoner", "Skeptic", "Explorer"]


def answer_to(page, question: str, timeout: float = 15_000):
    page.get_by_role("textbox", name="Message").fill(question)
    page.get_by_role("button", name="Send").click()
    answer = page.locator('article[data-author="assistant"]').last
    expect(answer).to_have_attribute("data-status", "done", timeout=timeout)
    return answer


def test_quick_and_contemplated_turns_rename_delete_and_a_reload_log_no_htmx_error(page, llm, htmx_errors):
    llm.script("Name a river", Reply(text="The Danube.\nIt flows through ten countries.", token_delay=0.02))
    for role in ROLES:
        llm.script("Is 91 prime?", Reply(text=f"{role} checks: 91 = 7 x 13, so it is not prime. " * 3,
                                         token_delay=0.02), system=f"You are the {role}")
    llm.script("Is 91 prime?", Reply(text="Relied on: A, B, C, D\n\nNo: 91 = 7 × 13."), system="judge")
    sign_up(page, "tidy")
    many_conversations("tidy", count=2)
    page.reload()

    expect(answer_to(page, "Name a river")).to_contain_text("It flows through ten countries.")
    page.get_by_role("switch", name="Contemplating").check()
    expect(answer_to(page, "Is 91 prime?", timeout=30_000).locator(".body")).to_have_text("No: 91 = 7 × 13.")

    other = menu_of(page, "Chat 0000")
    other.get_by_role("textbox", name="Rename").fill("Kept for later")
    other.get_by_role("button", name="Save").click()
    expect(page.locator("a.conversation-link[title='Kept for later']")).to_have_count(1)
    this = menu_of(page, "Name a river")
    this.get_by_role("textbox", name="Rename").fill("Rivers")
    this.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Rivers")

    page.once("dialog", lambda dialog: dialog.accept())
    menu_of(page, "Chat 0001").get_by_role("button", name="Delete").click()
    expect(page.locator("a.conversation-link[title='Chat 0001']")).to_have_count(0)

    page.reload()
    expect(page.locator('article[data-author="assistant"]')).to_have_count(2)
    expect(page.locator("#conversation-list [aria-current='page']")).to_have_text("Rivers")
    assert htmx_errors.seen == []
