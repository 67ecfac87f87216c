"""At phone width the header keeps the chat's title readable: the model is
picked in the composer's options (behind its Options button, beside
Contemplating), and still decides which model answers."""

import pytest
from playwright.sync_api import expect

from museapp.chat.models import Conversation
from tests.browser.test_chat_flow import sign_up
from tests.fakellm import Reply

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_phone_header_holds_the_title_and_the_model_is_picked_beside_the_switch(page, llm):
    llm.script("Which model are you", Reply(text="The second one."))
    sign_up(page, "pia")
    page.set_viewport_size({"width": 390, "height": 844})
    page.get_by_role("textbox", name="Message").fill("Which model are you")
    page.get_by_role("button", name="Send").click()
    expect(page.locator('article[data-author="assistant"]').last).to_have_attribute("data-status", "done")

    header = page.locator(".conversation-head")
    expect(header.get_by_role("combobox")).to_have_count(0)
    title = header.locator(".conversation-title").bounding_box()
    assert title["width"] >= 0.6 * 390, "the title has most of the header"

    page.locator(".composer-options").get_by_role("button", name="Options").click()  # the options but Contemplating
    picker = page.locator(".composer-options").get_by_role("combobox", name="Model", exact=True)
    page.get_by_role("textbox", name="Message").fill("Which model are you now")
    with page.expect_response(lambda response: response.url.endswith("/model/")) as picked:
        picker.select_option(label="Fake model two")
    assert picked.value.request.post_data == "model=openai%2Ffake-model-2", "the model alone, not the draft"
    expect(picker).to_have_value("openai/fake-model-2")
    page.get_by_role("button", name="Send").click()

    answer = page.locator('article[data-author="assistant"]').last
    expect(answer).to_have_attribute("data-status", "done")
    expect(answer.locator(".meta .model")).to_have_text("Fake model two")
    assert Conversation.objects.get(user__username="pia").model == "openai/fake-model-2"
    page.get_by_role("switch", name="Contemplating").check()
    for menu in (picker, page.get_by_role("combobox", name="Merge strategy")):
        box = menu.bounding_box()
        assert box["x"] + box["width"] <= 390, "no wider than the screen"
