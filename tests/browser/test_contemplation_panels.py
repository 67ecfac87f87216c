"""Following a contemplation in a real browser: panels that keep up with
their text, motion that respects reduced motion, failures visible at a
glance, and the drafts folded into one line once the merge starts."""

import re
from concurrent.futures import ThreadPoolExecutor

import pytest
from asgiref.sync import async_to_sync
from playwright.sync_api import expect

from museapp.agents.models import Contemplation
from museapp.chat.models import Message
from museapp.streams import events
from museapp.streams.announce import announce
from tests.browser.test_chat_flow import sign_up
from tests.fakellm import Reply

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROLES = ["Direct solver", "Step-by-step reasoner", "Skeptic", "Explorer"]


def ask(page, question: str) -> None:
    page.get_by_role("switch", name="Contemplating").check()
    page.get_by_role("textbox", name="Message").fill(question)
    page.get_by_role("button", name="Send").click()


def at_bottom(panel_body) -> bool:
    return panel_body.evaluate("b => b.scrollHeight - b.scrollTop - b.clientHeight < 4")


def test_a_panel_follows_its_newest_text_until_the_person_scrolls_it_up(page, llm):
    question = "Think out loud about tides"
    for role in ROLES:
        llm.script(question, Reply(text=f"{role} line.\n" * 120, token_delay=0.03), system=f"You are the {role}")
    sign_up(page, "tao")
    ask(page, question)

    body = page.locator('details.agent[data-agent-index="0"] .agent-body')
    expect(body).to_be_visible()
    page.wait_for_function("b => b.scrollHeight > b.clientHeight + 300", arg=body.element_handle())
    assert at_bottom(body), "the panel shows its newest text"

    body.evaluate("b => { b.scrollTop = 0; }")
    grown = body.evaluate("b => b.scrollHeight")
    page.wait_for_function("([b, h]) => b.scrollHeight > h + 50", arg=[body.element_handle(), grown])
    assert body.evaluate("b => b.scrollTop") == 0, "scrolled up by the person: left where they put it"


def test_a_thinking_pill_moves_unless_the_person_prefers_reduced_motion(browser, live_server_url, llm, htmx_errors):
    question = "Slow thoughts please"
    for role in ROLES:
        llm.script(question, Reply(text="thinking " * 60, token_delay=0.05), system=f"You are the {role}")
    names = {}
    for motion in ("no-preference", "reduce"):
        context = browser.new_context(base_url=live_server_url, reduced_motion=motion)
        htmx_errors.watch(context)
        page = context.new_page()
        sign_up(page, f"mo-{motion}")
        ask(page, question)
        pill = page.locator('.agent-status[data-status="thinking"]').first
        expect(pill).to_be_visible()
        names[motion] = pill.evaluate("p => getComputedStyle(p).animationName")
        context.close()

    assert names == {"no-preference": "muse-pulse", "reduce": "none"}


def test_after_the_merge_the_drafts_fold_into_one_line_and_failures_show_their_reason(page, llm):
    question = "Fold the drafts"
    for role in ROLES:
        llm.script(question, Reply(text=f"{role}: it folds.\n\nFinal answer: yes"), system=f"You are the {role}")
    llm.script(question, Reply(status=500, error_message="overloaded"), system="You are the Explorer")
    sign_up(page, "fen")
    ask(page, question)
    answer = page.locator('article[data-author="assistant"]').last
    expect(answer).to_have_attribute("data-status", "done", timeout=30_000)

    fold = answer.locator("details.drafts")
    agreement = Contemplation.objects.get(message__conversation__user__username="fen").agreement
    expect(fold.locator("> summary")).to_have_text(re.compile(rf"^4 agents · {agreement} of 4 agree · [\d.]+ m?s$"))
    expect(answer.locator("details.agent").first).to_be_hidden()
    fold.locator("> summary").click()
    expect(answer.locator("details.agent").first).to_be_visible()
    explorer = answer.locator('details.agent[data-agent-index="3"]')
    expect(explorer).not_to_have_attribute("open", "")
    expect(explorer.locator(".agent-reason")).to_be_visible()  # without opening the panel
    expect(answer.locator(".agent-used")).to_have_count(agreement)  # consensus relies on the agreeing drafts

    page.reload()
    answer = page.locator('article[data-author="assistant"]').last
    expect(answer.locator("details.drafts")).not_to_have_attribute("open", "")
    expect(answer.locator("details.agent").first).to_be_hidden()


def test_progress_says_how_many_drafts_are_done_then_that_the_answer_is_being_written(page, llm):
    question = "Show me the progress"
    llm.script(question, Reply(text="Quick draft without a final line."), system="You are the Direct solver")
    for role in ROLES[1:]:
        llm.script(question, Reply(text=f"{role} drafts slowly. " * 30, token_delay=0.05), system=f"You are the {role}")
    llm.script(question, Reply(text="Relied on: A\n\n" + "The merged answer. " * 40, token_delay=0.05),
               system="judge")
    sign_up(page, "pia")
    page.get_by_role("switch", name="Contemplating").check()
    page.locator("#strategy-select").select_option("synthesize")
    page.get_by_role("textbox", name="Message").fill(question)
    page.get_by_role("button", name="Send").click()
    answer = page.locator('article[data-author="assistant"]').last

    drafting = answer.locator(".progress-steps li").first
    expect(drafting).to_have_text("Drafting: 1 of 4 done")
    expect(drafting).to_have_attribute("aria-current", "step")
    expect(page.locator("#live-status")).to_have_text("Drafts 1 of 4 done")
    timer = answer.locator(".elapsed")
    expect(timer).to_have_text(re.compile(r"^[1-9]\d* s$"))

    writing = answer.locator(".progress-steps li").nth(1)
    expect(writing).to_have_attribute("aria-current", "step", timeout=30_000)
    expect(page.locator("#live-status")).to_have_text("Writing the final answer…")
    expect(answer).to_have_attribute("data-status", "done", timeout=30_000)
    expect(page.locator("#live-status")).to_have_text("Answer ready")
    assert page.locator("#messages").get_attribute("aria-live") is None, "the history is no live region"


def test_what_the_person_opened_stays_open_when_the_answer_is_rendered_again(page, llm):
    question = "Keep my panels open"
    for role in ROLES:
        llm.script(question, Reply(text=f"{role}: open.\n\nFinal answer: yes"), system=f"You are the {role}")
    sign_up(page, "opal")
    ask(page, question)
    answer = page.locator('article[data-author="assistant"]').last
    expect(answer).to_have_attribute("data-status", "done", timeout=30_000)
    answer.locator("details.drafts > summary").click()
    answer.locator('details.agent[data-agent-index="2"] > summary').click()
    expect(answer.locator('details.agent[data-agent-index="2"] .agent-body')).to_be_visible()
    rendered = answer.element_handle()

    message = Message.objects.filter(conversation__user__username="opal", author="assistant").get()
    # The answer rendered again, as a catch-up renders it (from a thread of its own: Playwright's loop runs in this one).
    with ThreadPoolExecutor(1) as thread:
        thread.submit(async_to_sync(announce), message.conversation_id, events.message_changed(message.pk)).result()
    page.wait_for_function("article => !article.isConnected", arg=rendered)

    expect(answer.locator("details.drafts")).to_have_attribute("open", "")
    expect(answer.locator('details.agent[data-agent-index="2"]')).to_have_attribute("open", "")
    expect(answer.locator('details.agent[data-agent-index="1"]')).not_to_have_attribute("open", "")
