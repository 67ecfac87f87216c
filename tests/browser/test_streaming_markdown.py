"""An answer is shown as Markdown while it streams, the same as when it is
done, and its code blocks have a header with the language and a Copy
button beside the code, not over it."""

import pytest
from playwright.sync_api import expect

from tests.browser.test_chat_flow import sign_up
from tests.browser.test_copy_and_shortcuts import watch_labels
from tests.fakellm import Reply

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ANSWER = ("Here is **the bold part** of it.\n\n```python\nprint('steeped')\n```\n\n"
          + " ".join(f"word{i}" for i in range(150)) + "\n\nThe end.")

# Read in one go: a live rendering may replace the body's contents at any time.
WHERE_THE_BOLD_PART_IS = "b => b.querySelector('strong').getBoundingClientRect().top - b.getBoundingClientRect().top"


def test_markdown_shows_as_the_answer_streams_and_nothing_moves_when_it_is_done(page, llm):
    llm.script("Show me markdown", Reply(text=ANSWER, token_delay=0.03))
    sign_up(page, "mark")
    page.get_by_role("textbox", name="Message").fill("Show me markdown")
    page.get_by_role("button", name="Send").click()
    answer = page.locator('article[data-author="assistant"]').last
    body = answer.locator(".body")

    expect(body.locator(".code-block .code-lang")).to_have_text("python", timeout=15_000)
    assert answer.get_attribute("data-status") == "streaming", "seen mid-stream"
    expect(body.locator("strong")).to_have_text("the bold part")
    rendered_so_far = body.evaluate("b => { const c = b.cloneNode(true); c.querySelector('.tail')?.remove(); "
                                    "return c.textContent; }")
    assert "**" not in rendered_so_far
    where_mid_stream = body.evaluate(WHERE_THE_BOLD_PART_IS)

    expect(answer).to_have_attribute("data-status", "done", timeout=30_000)
    assert "**" not in body.text_content()
    expect(body).to_contain_text("word149")
    where_done = body.evaluate(WHERE_THE_BOLD_PART_IS)
    assert where_done == where_mid_stream, "the finished answer is laid out as the streamed one was"


# The last answer's tail shows an ellipsis: read in the page, once the tail is there.
ELLIPSIS = """() => {
  const answers = document.querySelectorAll('article[data-author="assistant"]');
  const tail = answers.length && answers[answers.length - 1].querySelector('.body .tail');
  return !!tail && getComputedStyle(tail, '::before').content === '"…"';
}"""


def test_an_answer_with_no_text_yet_shows_an_ellipsis_live_and_after_a_reload(page, llm):
    llm.script("Think first", Reply(text="Thought it through.", first_token_delay=8))
    sign_up(page, "ellis")
    page.get_by_role("textbox", name="Message").fill("Think first")
    page.get_by_role("button", name="Send").click()
    answer = page.locator('article[data-author="assistant"]').last

    expect(answer).to_have_attribute("data-status", "streaming")
    page.wait_for_function(ELLIPSIS)  # the answer's turn frame
    page.reload()
    expect(answer).to_have_attribute("data-status", "streaming")
    page.wait_for_function(ELLIPSIS)  # the page as loaded (its catch-up may render the body again first)

    expect(answer.locator(".body")).to_have_text("Thought it through.", timeout=20_000)


def test_a_code_blocks_copy_button_sits_in_its_header_and_copies_the_code(page, llm, clipboard):
    llm.script("Show me code", Reply(text="Run this:\n\n```python\nprint('steeped')\n```"))
    sign_up(page, "cody")
    page.get_by_role("textbox", name="Message").fill("Show me code")
    page.get_by_role("button", name="Send").click()
    answer = page.locator('article[data-author="assistant"]').last
    expect(answer).to_have_attribute("data-status", "done", timeout=30_000)

    block = answer.locator(".code-block")
    copy = block.get_by_role("button", name="Copy code")
    expect(block.locator(".code-head")).to_contain_text("python")
    button, code = copy.bounding_box(), block.locator("pre").bounding_box()
    assert button["y"] + button["height"] <= code["y"], "above the code, not over it"

    watch_labels(copy)
    copy.click()
    page.wait_for_function("() => window.__labels.includes('Copied')")
    assert clipboard().strip() == "print('steeped')"


PASTED = "def count(text):\n    words = text.split()\n    return len(words)"
LINES = ["def count(text):", "words = text.split()", "return len(words)"]


def lines_of(body) -> list[str]:
    return [line.strip() for line in body.inner_text().splitlines() if line.strip()]


def test_single_line_breaks_stay_while_streaming_when_done_and_after_a_reload(page, llm):
    text = f"{PASTED}\n\n" + " ".join(f"word{i}" for i in range(120))
    llm.script("Give it back", Reply(text=text, token_delay=0.03))
    sign_up(page, "pasty")
    page.get_by_role("textbox", name="Message").fill("Give it back")
    page.get_by_role("button", name="Send").click()
    answer = page.locator('article[data-author="assistant"]').last
    body = answer.locator(".body")

    expect(body).to_contain_text("word5")
    assert answer.get_attribute("data-status") == "streaming", "seen mid-stream"
    assert lines_of(body)[:3] == LINES
    expect(answer).to_have_attribute("data-status", "done", timeout=30_000)
    assert lines_of(body)[:3] == LINES
    page.reload()
    assert lines_of(page.locator('article[data-author="assistant"]').last.locator(".body"))[:3] == LINES
