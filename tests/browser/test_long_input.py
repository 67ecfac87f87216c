"""Long input is never lost, in a real browser at desktop and phone width:
a 200,000-character paste through the real clipboard becomes a text file on
the message, kept whole, and the model reads it as an attached file; a message past the limit forced
through the box (past the page's own check too) leaves no bubble and keeps
its text, with the limit said; near the limit the box counts, and past it
Send explains and offers to attach the text as a file."""

import pytest
from playwright.sync_api import expect

from museapp.chat.models import Message
from museapp.files.models import Attachment
from tests.browser.test_chat_flow import sign_up
from tests.fakellm import Reply

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
SIZES = [pytest.param(DESKTOP, id="desktop"), pytest.param(PHONE, id="phone")]


def report(length: int) -> str:
    """``length`` characters of a report, lines numbered, its last line marked."""
    tail = "\nTHE LAST LINE OF THE REPORT"
    lines = "".join(f"line {n}: all quiet on the night shift\n" for n in range(length // 30))
    return lines[:length - len(tail)] + tail


def words(length: int) -> str:
    """``length`` characters of plain words: few tokens for their size."""
    return ("hello world " * (length // 12 + 1))[:length - 1] + "!"


TOO_LONG = "That message is 200,000 characters long; the limit is 20,000."


def signed_up(page, size: dict, name: str) -> None:
    """A new person on an empty chat of a ``size`` screen, its scripts
    running (the box shows before its deferred scripts run: a paste then
    would go unseen)."""
    page.set_viewport_size(size)
    sign_up(page, f"{name}-{size['width']}")
    page.wait_for_function("() => window.htmx !== undefined && window.MuseAttach !== undefined")


def box(page):
    return page.get_by_role("textbox", name="Message")


def chip(page, name: str):
    return page.locator("#attachment-tray").get_by_role("listitem").filter(has_text=name)


def force_the_next_send_past_the_page(page) -> None:
    """The page's own check of the limit lets the next message go (as a
    page without it would), then is back."""
    page.locator("#composer").evaluate("""form => {
      const limit = form.dataset.maxChars;
      delete form.dataset.maxChars;
      document.addEventListener("htmx:wsAfterSend", () => { form.dataset.maxChars = limit; }, {once: true});
    }""")


def type_by_script(page, text: str) -> None:
    """Put ``text`` in the box as a script would, past anything typing does."""
    box(page).evaluate("(box, text) => { box.value = text; box.dispatchEvent(new Event('input', {bubbles: true})); }",
                       text)


@pytest.mark.parametrize("size", SIZES)
def test_a_long_paste_becomes_a_text_file_the_model_reads_whole(page, llm, clipboard, size):
    signed_up(page, size, "ada-paste")
    pasted = report(200_000)
    llm.script("Summarise the pasted report", Reply(text="All quiet, all night."))

    page.evaluate("text => navigator.clipboard.writeText(text)", pasted)
    assert clipboard() == pasted
    box(page).focus()
    page.keyboard.press("ControlOrMeta+V")

    the_chip = chip(page, "Pasted text (200,000 characters)")
    expect(the_chip).to_have_attribute("data-status", "ready")
    expect(the_chip).to_be_in_viewport()
    expect(box(page)).to_have_value("")  # nothing cut into the box
    box(page).fill("Summarise the pasted report")
    page.get_by_role("button", name="Send").click()
    answer = page.locator("article.message.assistant").last
    expect(answer).to_have_attribute("data-status", "done")

    # The fake model's window is litellm's default for a model it does not
    # know (8,192 tokens): it reads what fits, and the answer says so. A
    # model with room reads it whole (tests/files/test_pasted_text.py).
    [request] = llm.requests_matching("Summarise the pasted report")
    read = request["messages"][-1]["content"]
    assert f'<file name="Pasted text (200,000 characters).txt">\n{pasted[:20_000]}' in read
    expect(answer).to_contain_text("All quiet, all night.")
    expect(answer.locator("[data-context-note]")).to_contain_text("of Pasted text (200,000 characters).txt")
    assert Attachment.objects.get().text == pasted, "all of it is kept"
    page.reload()
    question = page.locator("article.message.user").last
    expect(question.get_by_role("link", name="Pasted text (200,000 characters).txt")).to_be_visible()


@pytest.mark.parametrize("size", SIZES)
def test_a_message_forced_past_the_box_leaves_no_bubble_and_keeps_its_text(page, llm, size):
    signed_up(page, size, "ada-forced")
    long_text = report(200_000)

    type_by_script(page, long_text)
    page.get_by_role("button", name="Send").click()

    expect(page.locator("#composer-error")).to_contain_text(TOO_LONG)
    expect(page.locator("#composer-error")).to_be_in_viewport()
    expect(page.locator("#messages article")).to_have_count(0)
    expect(box(page)).to_have_value(long_text)

    # Past the page's own check as well: the server refuses it the same way.
    force_the_next_send_past_the_page(page)
    page.locator("#composer-error").evaluate("error => { error.textContent = ''; }")
    page.get_by_role("button", name="Send").click()

    expect(page.locator("#composer-error")).to_contain_text(TOO_LONG)
    expect(page.locator("#messages article")).to_have_count(0)
    expect(box(page)).to_have_value(long_text)
    assert not Message.objects.exists()
    assert llm.requests_matching("THE LAST LINE OF THE REPORT") == []
    page.reload()
    expect(box(page)).to_be_visible()
    expect(page.locator("#messages article")).to_have_count(0)


@pytest.mark.parametrize("size", SIZES)
def test_near_the_limit_the_box_counts_and_past_it_send_explains_and_offers_a_file(page, llm, size):
    signed_up(page, size, "ada-count")
    counter = page.locator("#message-count")
    expect(counter).to_be_hidden()

    box(page).fill("x" * 18_500)
    expect(page.locator("#message-count-text")).to_have_text("18,500 / 20,000")
    expect(counter).to_have_attribute("data-over", "false")

    text = words(20_500)
    box(page).fill(text)
    expect(page.locator("#message-count-text")).to_have_text("20,500 / 20,000")
    expect(counter).to_have_attribute("data-over", "true")
    expect(counter).to_be_in_viewport()
    page.get_by_role("button", name="Send").click()
    expect(page.locator("#composer-error")).to_have_text(
        "That message is 20,500 characters long; the limit is 20,000. "
        "Shorten it or split it up, or attach it as a text file.")
    expect(page.locator("#messages article")).to_have_count(0)
    expect(box(page)).to_have_value(text)

    counter.get_by_role("button", name="Attach it as a text file").click()
    expect(chip(page, "Pasted text (20,500 characters)")).to_have_attribute("data-status", "ready")
    expect(box(page)).to_have_value("")
    expect(counter).to_be_hidden()
    expect(page.locator("#composer-error")).to_have_text("")
    llm.script("What does it say", Reply(text="That all was quiet."))
    box(page).fill("What does it say")
    page.get_by_role("button", name="Send").click()
    expect(page.locator("article.message.assistant").last).to_have_attribute("data-status", "done")
    [request] = llm.requests_matching("What does it say")
    assert text in request["messages"][-1]["content"], "20,500 characters fit the fake model's window"


def test_a_message_over_the_servers_byte_limit_forced_past_the_page_comes_back_too(page, llm, settings):
    signed_up(page, DESKTOP, "ada-bytes")
    long_text = "€" * 200_000  # 600,000 bytes of UTF-8: the server closes the socket unread (1009)
    assert len(long_text.encode()) > settings.MUSE_WS_MAX_BYTES

    force_the_next_send_past_the_page(page)
    type_by_script(page, long_text)
    page.get_by_role("button", name="Send").click()

    expect(page.locator("#composer-error")).to_contain_text(TOO_LONG)
    expect(page.locator("#messages article")).to_have_count(0)
    expect(box(page)).to_have_value(long_text)
    assert not Message.objects.exists()
