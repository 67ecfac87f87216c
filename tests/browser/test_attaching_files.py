"""Attaching files in a real browser: the paperclip's file picker, a drop on
the composer, removing a chip before sending, the chips of a sent message
after a reload and their download, a file too large refused before a byte
is sent, and an image for a model that cannot see images."""

import json
from pathlib import Path

import pytest
from playwright.sync_api import expect

from museapp.files.models import Attachment
from tests.browser.test_chat_flow import sign_up
from tests.fakellm import Reply
from tests.files.pdfs import PNG

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NOTES = "Meeting notes: the launch moves to Thursday.\n"

# A file made inside the page and dropped on the composer, as a person drags
# one from their desktop: Playwright cannot drag from outside the browser.
DROP = """([name, text, size]) => {
  const data = new DataTransfer();
  const body = size ? new Uint8Array(size) : text;
  data.items.add(new File([body], name, {type: "text/plain"}));
  const box = document.getElementById("message-input");
  box.dispatchEvent(new DragEvent("dragover", {bubbles: true, cancelable: true, dataTransfer: data}));
  box.dispatchEvent(new DragEvent("drop", {bubbles: true, cancelable: true, dataTransfer: data}));
}"""


def tray(page):
    return page.get_by_role("list", name="Attached files").first


def chip(page, name: str):
    return tray(page).get_by_role("listitem").filter(has_text=name)


def pick(page, *files: dict) -> None:
    """Click "Attach files" and choose ``files`` in the picker (once the
    page's scripts run: before that, the paperclip opens nothing)."""
    page.wait_for_function("() => window.MuseAttach !== undefined")
    with page.expect_file_chooser() as chooser:
        page.get_by_role("button", name="Attach files").click()
    assert chooser.value.is_multiple()
    chooser.value.set_files(list(files))


def send(page, text: str):
    page.get_by_role("textbox", name="Message").fill(text)
    page.get_by_role("button", name="Send").click()
    answer = page.locator("article.message.assistant").last
    expect(answer).to_have_attribute("data-status", "done")
    return answer


def what_the_model_read(llm, question: str) -> str:
    [request] = llm.requests_matching(question)
    return json.dumps(request["messages"])


def test_a_file_picked_with_the_paperclip_is_read_sent_kept_and_downloaded(page, llm, csp_violations):
    sign_up(page, "ada-files")
    llm.script("When is the launch", Reply(text="On Thursday, say your notes."))

    pick(page, {"name": "notes.txt", "mimeType": "text/plain", "buffer": NOTES.encode()},
         {"name": "todo.md", "mimeType": "text/markdown", "buffer": b"# To do\n- book the room\n"})
    expect(chip(page, "notes.txt")).to_have_attribute("data-status", "ready")
    expect(chip(page, "notes.txt")).to_contain_text("45 bytes")
    expect(chip(page, "todo.md")).to_have_attribute("data-status", "ready")
    answer = send(page, "When is the launch")

    assert "the launch moves to Thursday" in what_the_model_read(llm, "When is the launch")
    assert "book the room" in what_the_model_read(llm, "When is the launch")
    expect(answer).to_contain_text("On Thursday")
    expect(page.locator("#attachment-tray .chip")).to_have_count(0)  # the composer's tray is empty again
    question = page.locator("article.message.user").last
    expect(question.get_by_role("link", name="notes.txt")).to_be_visible()

    page.reload()
    sent = page.locator("article.message.user").last.get_by_role("list", name="Attached files")
    expect(sent.get_by_role("link")).to_have_count(2)  # in the order their uploads ended: both at once
    expect(sent.get_by_role("link", name="todo.md")).to_be_visible()
    with page.expect_download() as download:
        sent.get_by_role("link", name="notes.txt").click()
    assert download.value.suggested_filename == "notes.txt"
    assert Path(download.value.path()).read_text() == NOTES
    assert csp_violations() == []


def test_a_dropped_file_can_be_removed_before_sending(page, llm):
    sign_up(page, "ada-drop")
    page.evaluate(DROP, ["draft.txt", "An early draft nobody should read.", 0])
    expect(chip(page, "draft.txt")).to_have_attribute("data-status", "ready")
    assert Attachment.objects.filter(name="draft.txt").count() == 1

    chip(page, "draft.txt").get_by_role("button", name="Remove draft.txt").click()
    expect(chip(page, "draft.txt")).to_have_count(0)
    send(page, "Say hello")

    assert "early draft" not in what_the_model_read(llm, "Say hello")
    assert not Attachment.objects.filter(name="draft.txt").exists()


def test_a_file_too_large_is_refused_before_anything_is_sent_and_the_words_stay(page, llm, settings):
    sign_up(page, "ada-huge")
    page.get_by_role("textbox", name="Message").fill("Summarise the attached dump")

    page.evaluate(DROP, ["dump.log", "", settings.MUSE_FILE_MAX_BYTES + 1])

    expect(chip(page, "dump.log")).to_have_attribute("data-status", "failed")
    expect(chip(page, "dump.log").get_by_role("alert")).to_contain_text("a file can be at most 20.0 MB")
    page.get_by_role("button", name="Send").click()
    expect(page.locator("#composer-error")).to_have_text("Remove dump.log first: it cannot be sent.")
    expect(page.get_by_role("textbox", name="Message")).to_have_value("Summarise the attached dump")
    expect(page.locator("article.message")).to_have_count(0)
    assert not Attachment.objects.exists()
    assert llm.requests_matching("Summarise the attached dump") == []

    chip(page, "dump.log").get_by_role("button", name="Remove dump.log").click()
    send(page, "Summarise the attached dump")
    assert "Summarise the attached dump" in what_the_model_read(llm, "Summarise the attached dump")


def test_an_image_for_a_model_that_cannot_see_says_so_and_the_text_goes_alone(page, llm):
    sign_up(page, "ada-image")
    pick(page, {"name": "chart.png", "mimeType": "image/png", "buffer": PNG})

    expect(chip(page, "chart.png")).to_have_attribute("data-status", "ready")
    expect(chip(page, "chart.png")).to_contain_text("this model can't see images")
    answer = send(page, "What does the chart show")

    assert "image_url" not in what_the_model_read(llm, "What does the chart show")
    expect(answer.locator("[data-context-note]")).to_contain_text("chart.png")


def test_at_phone_width_the_paperclip_and_the_chips_fit_beside_the_box(page, llm):
    page.set_viewport_size({"width": 390, "height": 800})
    sign_up(page, "ada-phone-files")
    pick(page, {"name": "a-rather-long-file-name-for-a-phone-screen.csv", "mimeType": "text/csv",
                "buffer": b"city,people\nLyon,522000\n"})

    the_chip = chip(page, "a-rather-long-file-name-for-a-phone-screen.csv")
    expect(the_chip).to_have_attribute("data-status", "ready")
    for thing in (the_chip, page.get_by_role("button", name="Attach files"), page.get_by_role("button", name="Send")):
        box = thing.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390, "nothing sticks out of the screen"
