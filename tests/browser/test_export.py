"""Export and Download my data in a real browser: the files arrive, on a wide
screen and in the phone's drawer."""

import json
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.test_chat_flow import sign_up
from tests.fakellm import Reply

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def chat(page, llm, question: str, reply: str) -> None:
    llm.script(question, Reply(text=reply))
    page.get_by_role("textbox", name="Message").fill(question)
    page.get_by_role("button", name="Send").click()
    expect(page.locator("article.message.assistant").last).to_have_attribute("data-status", "done")
    expect(page).to_have_title(f"{question} · Muse")


def open_export_menu(page, title: str):
    """The conversation's actions menu, then its Export group: the two links."""
    item = page.get_by_role("navigation", name="Conversations").get_by_role("listitem").filter(
        has=page.get_by_role("link", name=title))
    item.get_by_label(f"Actions for {title}").click()
    item.get_by_role("group", name="Export").get_by_text("Export", exact=True).click()
    return item


def downloaded(page, link) -> tuple[str, str]:
    with page.expect_download() as info:
        link.click()
    return info.value.suggested_filename, Path(info.value.path()).read_text(encoding="utf-8")


def test_a_person_exports_a_conversation_as_markdown_and_json(page, llm, csp_violations):
    sign_up(page, "ada-exports")
    chat(page, llm, "Plan a picnic", "Bring <b>bread</b> & cheese.")

    item = open_export_menu(page, "Plan a picnic")
    name, text = downloaded(page, item.get_by_role("link", name="Export as Markdown"))

    assert name == "plan-a-picnic.md"
    assert text.startswith("# Plan a picnic\n")
    assert "Bring <b>bread</b> & cheese." in text
    name, text = downloaded(page, item.get_by_role("link", name="Export as JSON"))
    assert name == "plan-a-picnic.json"
    messages = json.loads(text)["conversation"]["messages"]
    assert [(m["author"], m["content"]) for m in messages] == [
        ("user", "Plan a picnic"), ("assistant", "Bring <b>bread</b> & cheese.")]
    expect(page.get_by_role("textbox", name="Message")).to_be_visible()  # the page stayed where it was
    assert csp_violations() == []


def test_download_my_data_from_settings_holds_the_conversations(page, llm, csp_violations):
    sign_up(page, "ada-data")
    chat(page, llm, "Name a river", "The Danube.")

    page.get_by_role("navigation", name="Conversations").get_by_role("link", name="Settings", exact=True).click()
    name, text = downloaded(page, page.get_by_role("link", name="Download my data"))

    assert name == "muse-ada-data.json"
    data = json.loads(text)
    assert data["profile"]["username"] == "ada-data"
    assert [c["title"] for c in data["conversations"]] == ["Name a river"]
    assert data["conversations"][0]["messages"][1]["content"] == "The Danube."
    assert csp_violations() == []


def test_at_phone_width_the_export_links_are_reachable_in_the_drawer(page, llm):
    sign_up(page, "ada-phone")
    chat(page, llm, "Pack a bag", "A towel.")
    page.set_viewport_size({"width": 390, "height": 800})
    page.wait_for_function("() => document.getElementById('sidebar').inert === true")

    page.get_by_role("button", name="Chats").click()
    item = open_export_menu(page, "Pack a bag")

    for name in ("Export as Markdown", "Export as JSON"):
        link = item.get_by_role("link", name=name)
        expect(link).to_be_in_viewport()
        box = link.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390, f"{name} fits on the screen"
    name, text = downloaded(page, item.get_by_role("link", name="Export as Markdown"))
    assert name == "pack-a-bag.md" and "A towel." in text
