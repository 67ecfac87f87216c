"""A blind comparison in a real browser: Muse started with MUSE_COMPARE_RATE=1
(its own web server and worker), so every contemplated turn is compared."""

import pytest
from playwright.sync_api import expect

from museapp.agents.models import Comparison
from tests.browser.test_chat_flow import sign_up
from tests.fakellm import Reply
from tests.live import Stack

pytestmark = [pytest.mark.browser, pytest.mark.processes, pytest.mark.django_db(transaction=True)]

ROLES = ["Direct solver", "Step-by-step reasoner", "Skeptic", "Explorer"]
QUESTION = "Which planet is largest?"


@pytest.fixture
def comparing(tmp_path, llm, browser, htmx_errors):
    stack = Stack(tmp_path, MUSE_COMPARE_RATE="1")
    web = stack.web()
    stack.worker("worker")
    context = browser.new_context(base_url=f"http://{web.host}", viewport={"width": 1100, "height": 800})
    htmx_errors.watch(context)
    page = context.new_page()
    page.set_default_timeout(20_000)
    yield page
    context.close()
    stack.stop()


SIDE_BY_SIDE = """(id) => {
  const boxes = [...document.getElementById(id).querySelectorAll(".compared-answer")]
    .map((answer) => answer.getBoundingClientRect());
  return boxes.length === 2 && boxes[0].height > 0 && boxes[0].top === boxes[1].top;
}"""


STACKED = """(id) => {
  const boxes = [...document.getElementById(id).querySelectorAll(".compared-answer")]
    .map((answer) => answer.getBoundingClientRect());
  return boxes.length === 2 && boxes[0].height > 0 && boxes[1].top >= boxes[0].bottom;
}"""


def ask_contemplating(page, llm) -> None:
    llm.script(QUESTION, Reply(text="Saturn, I think."))  # the quick answer: no role
    for role in ROLES:
        llm.script(QUESTION, Reply(text="Jupiter is the largest.\n\nFinal answer: Jupiter"), system=f"You are the {role}")
    sign_up(page, "lin")
    page.get_by_role("switch", name="Contemplating").check()
    page.get_by_role("textbox", name="Message").fill(QUESTION)
    page.get_by_role("button", name="Send").click()


def test_a_person_compares_two_answers_blind_and_their_choice_becomes_the_answer(comparing, llm):
    page = comparing
    ask_contemplating(page, llm)

    answer = page.locator('article[data-author="assistant"]').last
    expect(answer.get_by_role("heading", name="Which do you prefer?")).to_be_visible(timeout=30_000)
    first, second = answer.get_by_role("group", name="Answer 1"), answer.get_by_role("group", name="Answer 2")
    expect(first).to_be_visible()
    expect(second).to_be_visible()
    # Side by side on a wide screen. Both boxes read at once, in the page: a
    # frame may re-render the answer between two reads from here.
    page.wait_for_function(SIDE_BY_SIDE, arg=answer.get_attribute("id"))
    expect(answer.locator("details.agent")).to_have_count(0)  # the drafts would tell which answer is which
    expect(answer.locator(".coordination")).to_have_count(0)
    comparison = Comparison.objects.get()
    quick = comparison.quick_position
    expect(answer.get_by_role("group", name=f"Answer {quick}")).to_contain_text("Saturn, I think.")

    page.reload()  # the same comparison, in the same order
    answer = page.locator('article[data-author="assistant"]').last
    expect(answer.get_by_role("group", name=f"Answer {quick}")).to_contain_text("Saturn, I think.")
    answer.get_by_role("button", name=f"Answer {quick} is better").click()

    expect(answer.locator(".comparison-reveal")).to_have_text(
        f"You preferred Answer {quick}. Answer {comparison.contemplated_position} was Contemplating (4 agents).")
    expect(answer.locator("[data-answer-text]")).to_have_text("Saturn, I think.")
    expect(answer.locator("details.agent")).to_have_count(4)
    expect(answer.get_by_role("button", name="Thumbs up")).to_be_visible()
    page.reload()
    answer = page.locator('article[data-author="assistant"]').last
    expect(answer.locator("[data-answer-text]")).to_have_text("Saturn, I think.")
    expect(answer.locator(".comparison-reveal")).to_be_visible()
    assert Comparison.objects.get().choice == "quick"


def test_at_phone_width_the_two_answers_are_stacked(comparing, llm):
    page = comparing
    page.set_viewport_size({"width": 390, "height": 800})
    ask_contemplating(page, llm)

    answer = page.locator('article[data-author="assistant"]').last
    second = answer.get_by_role("group", name="Answer 2")
    expect(second).to_be_visible(timeout=30_000)
    page.wait_for_function(STACKED, arg=answer.get_attribute("id"))
    answer.get_by_role("button", name="Skip").click()
    expect(answer.locator(".comparison-reveal")).to_contain_text("You skipped this comparison.")
