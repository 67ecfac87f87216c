"""When the socket drops, the page says so and says what happens to a
message sent meanwhile. Muse's own web server and worker, so the test can
stop the server under the page."""

import pytest
from playwright.sync_api import expect

from tests.browser.test_chat_flow import sign_up
from tests.live import Stack

pytestmark = [pytest.mark.browser, pytest.mark.processes, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def stack(tmp_path, llm):
    stack = Stack(tmp_path)
    yield stack
    stack.stop()


def test_a_dropped_socket_shows_a_banner_and_labels_a_message_waiting_to_be_sent(stack, browser):
    web = stack.web()
    stack.worker("worker")
    context = browser.new_context(base_url=f"http://{web.host}")
    page = context.new_page()
    sign_up(page, "rio")
    banner = page.locator("#connection-state")
    expect(banner).to_be_hidden()

    stack.kill(web)

    expect(banner).to_have_text("Reconnecting… your message will be sent.")
    expect(banner).to_be_visible()
    page.get_by_role("textbox", name="Message").fill("Are you there?")
    page.get_by_role("button", name="Send").click()
    expect(page.locator("[data-pending] .pending-label").first).to_have_text(
        "Waiting to send: it goes as soon as Muse reconnects.")
    context.close()


def test_the_contemplating_hint_is_shown_once(page):
    sign_up(page, "hana")
    hint = page.locator(".composer-hint")
    with page.expect_response(lambda response: "/preferences/" in response.url):  # saved as it changes
        page.get_by_role("switch", name="Contemplating").check()
    expect(hint).to_be_visible()

    page.reload()

    expect(page.get_by_role("switch", name="Contemplating")).to_be_checked()
    expect(hint).to_be_hidden()
