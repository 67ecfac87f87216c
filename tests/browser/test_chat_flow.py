"""A person in a real browser: Playwright driving Debian's chromium against
the ASGI server and a Celery worker in their own processes."""

import re

import pytest
from playwright.sync_api import expect

from tests.fakellm import Reply

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_up(page, username: str) -> None:
    page.goto("/accounts/signup/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password", exact=True).fill("correct horse 42")
    page.get_by_label("Password confirmation").fill("correct horse 42")
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_role("textbox", name="Message")).to_be_visible()


def test_a_new_person_signs_up_sends_a_message_and_watches_the_answer_stream(page, llm):
    llm.script(
        "haiku about tea",
        Reply(text="Steam curls from the cup,\n**quiet** leaves unfold slowly,\nmorning finds its voice.", token_delay=0.08),
    )
    sign_up(page, "grace")

    page.get_by_role("textbox", name="Message").fill("Write a haiku about tea")
    page.get_by_role("textbox", name="Message").press("Enter")

    answer = page.locator('article[data-author="assistant"]').last
    expect(page.locator('article[data-author="user"]').last).to_contain_text("Write a haiku about tea")
    expect(answer).to_have_attribute("data-status", "streaming")
    expect(page.get_by_role("button", name="Stop")).to_be_visible()
    expect(answer).to_contain_text("Steam curls")
    expect(answer).not_to_contain_text("morning finds its voice")  # still streaming

    expect(answer).to_have_attribute("data-status", "done")
    expect(answer).to_contain_text("morning finds its voice.")
    expect(answer.locator("strong")).to_have_text("quiet")  # Markdown once complete
    expect(page.get_by_role("button", name="Stop")).to_have_count(0)
    expect(page.get_by_role("textbox", name="Message")).to_have_value("")
    expect(page.get_by_role("navigation", name="Conversations")).to_contain_text("Write a haiku about tea")

    page.reload()
    expect(page.locator('article[data-author="assistant"]').last).to_contain_text("morning finds its voice.")


def test_stop_keeps_the_partial_answer(page, llm):
    llm.script("count slowly", Reply(tokens=300, token_delay=0.05))
    sign_up(page, "linus")
    page.get_by_role("textbox", name="Message").fill("count slowly")
    page.get_by_role("button", name="Send").click()
    answer = page.locator('article[data-author="assistant"]').last
    expect(answer).to_contain_text("tok5")
    page.get_by_role("button", name="Stop").click()
    expect(answer).to_have_attribute("data-status", "stopped")
    expect(answer).to_contain_text("tok5")
    expect(answer).not_to_contain_text("tok299")


def test_a_stopped_answer_says_so_with_its_tokens_and_can_be_rated(page, llm):
    llm.script("count on", Reply(tokens=300, token_delay=0.05))
    sign_up(page, "edsger")
    page.get_by_role("textbox", name="Message").fill("count on")
    page.get_by_role("button", name="Send").click()
    answer = page.locator('article[data-author="assistant"]').last
    expect(answer).to_contain_text("tok5")
    page.get_by_role("button", name="Stop").click()

    expect(answer).to_have_attribute("data-status", "stopped")
    expect(answer.locator(".stopped-note")).to_have_text(re.compile(r"^Stopped after \d+ tokens\.$"))
    answer.get_by_role("button", name="Thumbs down").click()
    expect(answer.get_by_role("button", name="Thumbs down")).to_have_attribute("aria-pressed", "true")
    page.reload()
    expect(page.locator('article[data-author="assistant"]').last.get_by_role("button", name="Thumbs down")
           ).to_have_attribute("aria-pressed", "true")


def test_a_failed_answer_can_be_retried_without_retyping(page, llm):
    llm.script("flaky question", Reply(status=503), times=1)
    sign_up(page, "margaret")
    page.get_by_role("textbox", name="Message").fill("flaky question")
    page.get_by_role("textbox", name="Message").press("Enter")
    answer = page.locator('article[data-author="assistant"]').last
    expect(answer).to_have_attribute("data-status", "error")
    expect(answer.get_by_role("alert")).to_contain_text("internal error")
    answer.get_by_role("button", name="Retry").click()
    expect(answer).to_have_attribute("data-status", "done")
    expect(answer).to_contain_text("Echo: flaky question")


def test_contemplating_shows_the_agents_thinking_then_one_merged_answer(page, llm):
    for role in ["Direct solver", "Step-by-step reasoner", "Skeptic", "Explorer"]:
        # Drafts without a short answer: the judge merges them (unanimous ones would need no judge).
        llm.script("Is 91 prime?", Reply(text=f"{role} checks: 91 = 7 x 13, so it is not prime. " * 6,
                                         token_delay=0.05), system=f"You are the {role}")
    llm.script("Is 91 prime?", Reply(text="Relied on: A, B, C, D\n\nNo: 91 = 7 × 13.", token_delay=0.05),
               system="judge")
    sign_up(page, "ada")

    switch = page.get_by_role("switch", name="Contemplating")
    switch.check()
    page.get_by_role("textbox", name="Message").fill("Is 91 prime?")
    page.get_by_role("button", name="Send").click()

    panels = page.locator("details.agent")
    expect(panels).to_have_count(4)
    for index in range(4):
        panel = page.locator(f'details.agent[data-agent-index="{index}"]')
        expect(panel).to_have_attribute("data-status", "thinking")
        expect(panel).to_contain_text("checks: 91")
    expect(page.locator("details.agent").first).to_contain_text("tokens")

    answer = page.locator('article[data-author="assistant"]').last
    expect(answer).to_have_attribute("data-status", "done", timeout=30_000)
    expect(answer.locator(".body")).to_have_text("No: 91 = 7 × 13.")
    expect(answer.locator(".drafts-summary")).to_contain_text("4 agents · 4 of 4 agree")
    expect(answer.locator(".coordination-line")).to_have_text("Written from 4 of the drafts; 4 of 4 agree.")
    expect(page.locator('details.agent[data-status="done"]')).to_have_count(4)
    expect(page.locator("details.agent[open]")).to_have_count(0)  # collapsed once merged

    page.reload()
    expect(page.get_by_role("switch", name="Contemplating")).to_be_checked()  # remembered
    expect(page.locator("details.agent")).to_have_count(4)


def test_a_person_makes_an_agents_draft_the_answer(page, llm):
    for role, text in [("Direct solver", "Yes, it is prime."), ("Step-by-step reasoner", "No: 91 = 7 x 13."),
                       ("Skeptic", "Looks prime to me."), ("Explorer", "Probably prime.")]:
        llm.script("Is 91 prime, really?", Reply(text=text), system=f"You are the {role}")
    llm.script("Is 91 prime, really?", Reply(text="Relied on: A, C, D\n\nYes, 91 is prime."), system="judge")
    sign_up(page, "mary")
    page.get_by_role("switch", name="Contemplating").check()
    page.get_by_role("textbox", name="Message").fill("Is 91 prime, really?")
    page.get_by_role("button", name="Send").click()
    answer = page.locator('article[data-author="assistant"]').last
    expect(answer).to_have_attribute("data-status", "done", timeout=30_000)
    expect(answer.locator("[data-answer-text]")).to_have_text("Yes, 91 is prime.")

    answer.locator("details.drafts > summary").click()  # the drafts fold into one line after the merge
    reasoner = answer.locator('details.agent[data-agent-index="1"]')
    reasoner.locator("summary").click()
    reasoner.get_by_role("button", name="Use this draft").click()

    answer = page.locator('article[data-author="assistant"]').last
    expect(answer.locator("[data-answer-text]")).to_have_text("No: 91 = 7 x 13.")
    expect(answer.locator(".coordination-line")).to_have_text("You made the Step-by-step reasoner's draft the answer.")
    page.reload()
    answer = page.locator('article[data-author="assistant"]').last
    expect(answer.locator("[data-answer-text]")).to_have_text("No: 91 = 7 x 13.")
    answer.locator("details.drafts > summary").click()
    reasoner = answer.locator('details.agent[data-agent-index="1"]')
    reasoner.locator("summary").click()
    expect(reasoner.get_by_role("button", name="Use this draft")).to_have_attribute("aria-pressed", "true")


def test_thumbs_up_stays_pressed_after_a_reload(page, llm):
    sign_up(page, "barbara")
    page.get_by_role("textbox", name="Message").fill("rate me")
    page.get_by_role("textbox", name="Message").press("Enter")
    answer = page.locator('article[data-author="assistant"]').last
    expect(answer).to_have_attribute("data-status", "done")

    answer.get_by_role("button", name="Thumbs up").click()
    expect(answer.get_by_role("button", name="Thumbs up")).to_have_attribute("aria-pressed", "true")
    expect(answer.get_by_role("button", name="Thumbs up")).to_be_focused()  # focus returns to the thumb
    box = answer.get_by_role("button", name="Thumbs up").bounding_box()
    assert box["width"] >= 32 and box["height"] >= 32
    answer.get_by_label("accurate").check()
    answer.get_by_role("button", name="Send feedback").click()
    thanks = answer.locator(".rating-why > summary")
    expect(thanks).to_have_text("Thanks · Edit")
    expect(thanks).to_be_focused()  # the pressed control folded away: focus stays in the rating
    expect(answer.get_by_role("button", name="Send feedback")).to_be_hidden()

    page.reload()
    answer = page.locator('article[data-author="assistant"]').last
    expect(answer.get_by_role("button", name="Thumbs up")).to_have_attribute("aria-pressed", "true")
    expect(answer.get_by_role("button", name="Thumbs down")).to_have_attribute("aria-pressed", "false")
    expect(answer.locator(".rating-why > summary")).to_have_text("Thanks · Edit")  # still folded
    answer.locator(".rating-why > summary").click()
    expect(answer.get_by_label("accurate")).to_be_checked()


def test_a_person_retries_a_failed_agent_then_merges_again(page, llm):
    question = "How many moons has Mars, truly?"
    # The Explorer is slow: once two drafts agree and the Skeptic has failed,
    # it is always stopped early (which agents finish first never decides it).
    for role in ["Direct solver", "Step-by-step reasoner", "Skeptic", "Explorer"]:
        llm.script(question, Reply(text=f"{role}: two, Phobos and Deimos.\n\nFinal answer: 2",
                                   first_token_delay=60 if role == "Explorer" else 0),
                   system=f"You are the {role}")
    llm.script(question, Reply(status=500, error_message="overloaded"), times=1, system="You are the Skeptic")
    sign_up(page, "ning")
    page.get_by_role("switch", name="Contemplating").check()
    page.get_by_role("textbox", name="Message").fill(question)
    page.get_by_role("button", name="Send").click()
    answer = page.locator('article[data-author="assistant"]').last
    expect(answer).to_have_attribute("data-status", "done", timeout=30_000)
    expect(answer.locator(".coordination-savings")).to_contain_text("1 failed")
    expect(answer.locator(".coordination-line")).to_have_text("The 2 drafts that finished agree, so no judge was needed.")

    skeptic = answer.locator('details.agent[data-agent-index="2"]')
    expect(skeptic).to_have_attribute("data-status", "failed")
    answer.locator("details.drafts > summary").click()
    skeptic.locator("summary").click()
    skeptic.get_by_role("button", name="Retry this agent").click()

    expect(skeptic).to_have_attribute("data-status", "done", timeout=30_000)
    answer.get_by_role("button", name="Merge again").click()
    expect(answer.locator(".coordination-line")).to_have_text("The 3 drafts that finished agree, so no judge was needed.",
                                                              timeout=30_000)
    expect(answer.locator(".coordination")).not_to_contain_text("failed")
    page.reload()
    answer = page.locator('article[data-author="assistant"]').last
    expect(answer.locator(".drafts-summary")).to_contain_text("3 of 4 agree")
