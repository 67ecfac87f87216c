"""In the browser: a tab past the person's socket cap, and a tab whose
session ended, say so in the page instead of reconnecting in silence."""

import re

import pytest
from django.conf import settings
from playwright.sync_api import expect
from websockets.sync.client import connect

from museapp.web.consumers import LOGGED_OUT, TOO_MANY_TABS
from tests.browser.test_chat_flow import sign_up

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def open_sockets(page, live_server_url: str, count: int, conversation_url: str) -> list:
    session = next(c["value"] for c in page.context.cookies() if c["name"] == "sessionid")
    conversation_id = re.search(r"/c/(\d+)/", conversation_url)[1]
    url = live_server_url.replace("http://", "ws://", 1) + f"/ws/chat/{conversation_id}/"
    headers = {"Origin": live_server_url, "Cookie": f"sessionid={session}"}
    return [connect(url, additional_headers=headers, open_timeout=10) for _ in range(count)]


def test_a_tab_past_the_cap_says_there_are_too_many_open_tabs(page, live_server_url):
    sign_up(page, "ada-tabs")
    conversation = page.url
    page.goto("about:blank")  # the page's own socket closes
    others = open_sockets(page, live_server_url, settings.MUSE_SOCKETS_PER_PERSON, conversation)

    page.goto(conversation)

    expect(page.locator("#connection-state")).to_have_text(TOO_MANY_TABS)
    for socket in others:
        socket.close()


def test_logging_out_in_another_tab_tells_this_tab_it_is_logged_out(page):
    sign_up(page, "ada-session")
    expect(page.locator("#connection-state")).to_have_text("")
    other_tab = page.context.new_page()
    other_tab.goto(page.url)

    other_tab.get_by_role("button", name="Log out").click()

    expect(page.locator("#connection-state")).to_have_text(LOGGED_OUT)
    other_tab.close()
