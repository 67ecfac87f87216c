"""The answer in view, always: each new question is pinned at the top of the
conversation and its answer grows beneath it, quick or contemplated, on a
phone and on a desktop, and the conversation's area ends above the composer."""

import pytest
from playwright.sync_api import expect

from tests.browser.test_chat_flow import sign_up
from tests.fakellm import Reply

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
ROLES = ["Direct solver", "Step-by-step reasoner", "Skeptic", "Explorer"]

# The lines of an element's text that a person can see: inside the window,
# above the composer, and not covered by anything (the point at a line's
# middle belongs to the text itself).
LINES_IN_VIEW = """element => {
  const composerTop = document.getElementById("composer").getBoundingClientRect().top;
  const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
  const middles = [];
  for (let text = walker.nextNode(); text; text = walker.nextNode()) {
    const range = document.createRange();
    range.selectNodeContents(text);
    for (const line of range.getClientRects()) {
      if (line.width < 1 || line.top < 0 || line.bottom > composerTop || line.right > innerWidth) continue;
      const middle = (line.top + line.bottom) / 2;
      const seen = document.elementFromPoint(line.left + line.width / 2, middle);
      if (seen && element.contains(seen)) middles.push(middle);
    }
  }
  middles.sort((a, b) => a - b);
  return middles.filter((middle, i) => i === 0 || middle - middles[i - 1] > 6).length;
}"""


def lines_in_view(answer) -> int:
    return answer.locator("[data-answer-text]").evaluate(LINES_IN_VIEW)


def ask(page, question: str) -> None:
    page.get_by_role("textbox", name="Message").fill(question)
    page.get_by_role("button", name="Send").click()


def last_answer(page):
    return page.locator('article[data-author="assistant"]').last


def script_contemplation(llm, question: str, answer: str) -> None:
    for role in ROLES:  # long drafts, streamed in open panels that fold at the merge
        llm.script(question, Reply(text=f"{role} thinks it through. " * 60, token_delay=0.005),
                   system=f"You are the {role}")
    llm.script(question, Reply(text="Relied on: A, B, C, D\n\n" + answer, token_delay=0.01), system="judge")


def long_answer(topic: str) -> str:
    return "\n\n".join(f"{topic}, point {n}: a sentence long enough to fill a line or two of the answer."
                       for n in range(1, 21))


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_after_a_second_contemplated_turn_its_answer_is_in_view_under_its_question(page, llm, viewport):
    script_contemplation(llm, "Tell me about tides", long_answer("Tides"))
    script_contemplation(llm, "Tell me about waves", long_answer("Waves"))
    page.set_viewport_size(viewport)
    sign_up(page, "tia")
    page.get_by_role("switch", name="Contemplating").check()

    for question in ("Tell me about tides", "Tell me about waves"):
        ask(page, question)
        expect(last_answer(page)).to_have_attribute("data-status", "done", timeout=30_000)

    assert lines_in_view(last_answer(page)) >= 5, "at least five lines of the answer above the composer"
    question = page.locator('article[data-author="user"]').last
    expect(question).to_be_in_viewport()
    assert question.bounding_box()["y"] < last_answer(page).locator("[data-answer-text]").bounding_box()["y"]


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_a_long_quick_answer_is_read_from_its_start_under_its_question(page, llm, viewport):
    llm.script("Explain the moon", Reply(text="Short first answer."))
    llm.script("Explain the sea", Reply(text=long_answer("The sea"), token_delay=0.005))
    page.set_viewport_size(viewport)
    sign_up(page, "sol")

    ask(page, "Explain the moon")
    expect(last_answer(page)).to_have_attribute("data-status", "done")
    ask(page, "Explain the sea")
    expect(last_answer(page)).to_have_attribute("data-status", "done")

    assert lines_in_view(last_answer(page)) >= 5
    expect(last_answer(page).get_by_text("The sea, point 1:")).to_be_in_viewport()


def test_scrolled_away_by_the_person_the_view_stays_where_they_put_it(page, llm):
    llm.script("Earlier question", Reply(text=long_answer("Earlier")))
    llm.script("Slow answer please", Reply(text=long_answer("Slowly"), token_delay=0.03))
    page.set_viewport_size(PHONE)
    sign_up(page, "ray")
    ask(page, "Earlier question")
    expect(last_answer(page)).to_have_attribute("data-status", "done")
    ask(page, "Slow answer please")
    expect(last_answer(page)).to_contain_text("Slowly, point 1")
    area = page.locator("#conversation-scroll")
    pinned = area.evaluate("a => a.scrollTop")

    page.mouse.move(195, 300)
    page.mouse.wheel(0, -600)  # back up to the earlier answer, while this one streams on
    expect(last_answer(page)).to_have_attribute("data-status", "done", timeout=30_000)

    assert area.evaluate("a => a.scrollTop") <= pinned - 300, "left where the person put it"
    expect(page.get_by_text("Earlier, point 20:")).to_be_in_viewport()


def test_the_conversation_ends_above_the_composer_however_tall_it_grows(page, llm):
    llm.script("Anything", Reply(text=long_answer("Anything")))
    page.set_viewport_size(PHONE)
    sign_up(page, "uma")
    ask(page, "Anything")
    expect(last_answer(page)).to_have_attribute("data-status", "done")

    page.get_by_role("textbox", name="Message").fill("a line\n" * 12)  # the box grows to its tallest
    page.locator("#conversation-scroll").evaluate("a => { a.scrollTop = a.scrollHeight; }")

    composer = page.locator("#composer").bounding_box()
    assert composer["height"] > 240, "a tall composer"
    end = last_answer(page).locator(".meta").bounding_box()
    assert end["y"] + end["height"] <= composer["y"], "the answer's last line is above the composer, not under it"
