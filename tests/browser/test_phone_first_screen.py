"""A phone screen that belongs to the conversation: the offline model's
notice is one line with its reasons on a tap, the empty composer and its
options take at most a quarter of the screen, and the merge menu's choices
read in full."""

import pytest
from playwright.sync_api import expect

from tests.browser.test_chat_flow import sign_up

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


def open_the_options(page) -> None:
    page.wait_for_load_state("domcontentloaded")  # muse.js, which opens them, has run
    page.get_by_role("button", name="Options").click()
    expect(page.get_by_role("button", name="Options")).to_have_attribute("aria-expanded", "true")


def pick_the_offline_model(page) -> None:
    open_the_options(page)
    with page.expect_response(lambda response: response.url.endswith("/model/")):
        page.get_by_role("combobox", name="Model", exact=True).select_option(label="SmolLM2 (offline demo)")
    page.reload()


def test_the_offline_notice_is_one_line_its_details_on_a_tap_and_dismissed_it_stays_dismissed(page):
    page.set_viewport_size(PHONE)
    sign_up(page, "noa")
    pick_the_offline_model(page)

    notice = page.get_by_role("status").filter(has_text="Offline demo model: often wrong")
    expect(notice).to_be_visible()
    assert notice.bounding_box()["height"] <= 44, "one line"
    evidence = notice.get_by_text("On this model Contemplating is barely worth it")
    expect(evidence).to_be_hidden()
    notice.get_by_text("Offline demo model: often wrong").click()
    expect(evidence).to_be_visible()
    expect(notice).to_contain_text("You're chatting with a small offline demo model")

    notice.get_by_role("button", name="Dismiss").click()
    expect(notice).to_be_hidden()
    page.reload()
    expect(page.get_by_role("textbox", name="Message")).to_be_visible()
    expect(page.get_by_text("Offline demo model: often wrong")).to_have_count(0)


def test_the_empty_composer_and_its_options_take_at_most_a_quarter_of_the_phone_screen(page):
    page.set_viewport_size(PHONE)
    sign_up(page, "ivo")
    pick_the_offline_model(page)
    with page.expect_response(lambda response: "/preferences/" in response.url):
        page.get_by_role("switch", name="Contemplating").check()

    composer = page.locator("#composer")
    assert composer.bounding_box()["height"] <= 0.25 * PHONE["height"]
    options = page.locator("#composer-options > *, #composer-options .composer-settings > *")
    shown = [box for box in (options.nth(i).bounding_box() for i in range(options.count())) if box]
    middles = [box["y"] + box["height"] / 2 for box in shown]
    assert len(shown) == 2 and max(middles) - min(middles) < 8, "Contemplating and Options, in one row"
    expect(page.get_by_role("combobox", name="Merge strategy")).to_be_hidden()

    open_the_options(page)  # the rest, behind one button
    expect(page.get_by_role("combobox", name="Merge strategy")).to_be_visible()
    expect(page.get_by_role("combobox", name="Model", exact=True)).to_be_visible()


@pytest.mark.parametrize("viewport", [PHONE, {"width": 1280, "height": 800}], ids=["phone", "desktop"])
def test_the_merge_menu_has_short_labels_and_describes_the_chosen_one_in_full(page, viewport):
    page.set_viewport_size(viewport)
    sign_up(page, "lea")
    page.get_by_role("switch", name="Contemplating").check()
    if viewport is PHONE:
        open_the_options(page)
    else:
        expect(page.get_by_role("button", name="Options")).to_be_hidden()
    menu = page.get_by_role("combobox", name="Merge strategy")

    assert menu.locator("option").all_inner_texts() == ["Synthesize", "Vote", "Select", "Consensus", "Confidence"]
    expect(menu).to_have_value("synthesize")  # a remote model's default
    expect(menu).to_have_accessible_description("A judge writes one answer from the best of the drafts.")
    menu.select_option("consensus")
    expect(menu).to_have_accessible_description("The draft most like the others wins, no judge.")
    menu.select_option("synthesize")
    about = page.locator("#strategy-about")
    expect(about).to_have_text("A judge writes one answer from the best of the drafts.")
    expect(menu).to_have_accessible_description("A judge writes one answer from the best of the drafts.")

    box = about.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"], "on the screen"
    assert about.evaluate("a => a.scrollWidth <= a.clientWidth"), "not cut off"
    menu_box = menu.bounding_box()
    assert menu_box["x"] + menu_box["width"] <= viewport["width"]
