"""Every change of a contemplated answer is a version, as Regenerate's are:
"Use this draft", then "Merge again", each leaves one, labelled, and the
person can go back to any of them. On a desktop and a phone screen."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_chat_flow import sign_up
from tests.fakellm import Reply

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Two answers, two drafts each: no majority, so the judge writes the answer.
DRAFTS = {"Direct solver": "Iron oxide makes Mars red.\n\nFinal answer: iron oxide",
          "Step-by-step reasoner": "Rust makes Mars red.\n\nFinal answer: rust",
          "Skeptic": "It is rust.\n\nFinal answer: rust",
          "Explorer": "Iron oxide dust colours Mars red.\n\nFinal answer: iron oxide"}
MERGED = "Mars, coloured by iron oxide dust."


def the_answer(page):
    return page.locator('article[data-author="assistant"]').last


def fold_time(answer) -> str:
    """The contemplation's time on the fold line ("4 agents · 1.2 s")."""
    return re.search(r"· ([\d.]+ m?s)$", answer.locator("details.drafts > summary").inner_text()).group(1)


def shows_version(answer, position: str, label: str, text: str) -> None:
    expect(answer.locator(".version-count")).to_have_text(position)
    expect(answer.locator("[data-version-label]")).to_have_text(label)
    expect(answer.locator("[data-answer-text]")).to_contain_text(text)


@pytest.mark.parametrize(("width", "height"), [(1280, 800), (390, 844)], ids=["desktop", "phone"])
def test_use_this_draft_then_merge_again_leaves_two_versions_each_labelled_and_both_reachable(page, llm, width, height):
    question = f"Why is Mars red, at {width} wide?"
    for role, text in DRAFTS.items():
        llm.script(question, Reply(text=text), system=f"You are the {role}")
    llm.script(question, Reply(text=f"Relied on: A, B\n\n{MERGED}"), system="judge")
    page.set_viewport_size({"width": width, "height": height})
    sign_up(page, f"ares{width}")
    page.get_by_role("switch", name="Contemplating").check()
    page.get_by_role("textbox", name="Message").fill(question)
    page.get_by_role("button", name="Send").click()
    answer = the_answer(page)
    expect(answer).to_have_attribute("data-status", "done", timeout=30_000)
    merged_text = answer.locator("[data-answer-text]").inner_text()
    merged_time = fold_time(answer)

    answer.locator("details.drafts > summary").click()
    explorer = answer.locator('details.agent[data-agent-index="3"]')
    explorer.locator("> summary").click()
    explorer.get_by_role("button", name="Use this draft").click()

    answer = the_answer(page)
    shows_version(answer, "2 / 2", "Draft by the Explorer, chosen by you", "Iron oxide dust colours Mars red.")
    assert fold_time(answer) == merged_time, "the fold line keeps the contemplation's figures"

    answer.get_by_role("button", name="Merge again").click()
    answer = the_answer(page)
    expect(answer.locator(".version-count")).to_have_text("3 / 3")
    expect(answer).to_have_attribute("data-status", "done", timeout=30_000)
    shows_version(answer, "3 / 3", "Merged again", MERGED)
    assert fold_time(answer) == merged_time, "the merge's own time goes under Details, not on the fold line"
    answer.locator("details.coordination-more > summary").click()
    expect(answer.locator(".coordination-merge")).to_have_text(re.compile(r"^Merged again: [\d.]+ m?s"))

    answer.get_by_role("button", name="Previous version").click()
    shows_version(the_answer(page), "2 / 3", "Draft by the Explorer, chosen by you", "Iron oxide dust colours Mars red.")
    the_answer(page).get_by_role("button", name="Previous version").click()
    shows_version(the_answer(page), "1 / 3", "Merged", merged_text)
    the_answer(page).get_by_role("button", name="Next version").click()
    expect(the_answer(page).locator(".version-count")).to_have_text("2 / 3")
    the_answer(page).get_by_role("button", name="Next version").click()
    shows_version(the_answer(page), "3 / 3", "Merged again", MERGED)
