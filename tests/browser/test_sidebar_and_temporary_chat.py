"""A sidebar of 2,000 conversations in a real browser: date groups in
order, more pages as it scrolls, Pin, the open conversation highlighted;
and a Temporary chat, at desktop and phone width."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from playwright.sync_api import expect

from museapp.chat.models import Conversation
from tests.browser.test_chat_flow import sign_up
from tests.fakellm import Reply

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HOURS_APART = 8  # 2,000 conversations reach back about 22 months


def many_conversations(username: str, count: int = 2000) -> list[Conversation]:
    """``count`` conversations, "Chat 0000" the newest, one every HOURS_APART
    hours back (updated_at is auto_now: set by a bulk update)."""
    user = get_user_model().objects.get(username=username)
    made = Conversation.objects.bulk_create([Conversation(user=user, title=f"Chat {n:04d}") for n in range(count)])
    now = timezone.now()
    for n, conversation in enumerate(made):
        conversation.updated_at = now - timedelta(hours=1 + HOURS_APART * n)
    Conversation.objects.bulk_update(made, ["updated_at"], batch_size=500)
    return made


def items(page):
    return page.locator("#conversation-list > li.conversation-item")


def headings(page) -> list[str]:
    """The group headings a person sees, top to bottom."""
    return page.locator("#conversation-list > li.conversation-group h2:visible").all_inner_texts()


def scroll_the_list_to_its_end(page) -> None:
    page.locator("#conversation-list").evaluate("list => { list.scrollTop = list.scrollHeight; }")


def menu_of(page, title: str):
    page.get_by_label(f"Actions for {title}", exact=True).click()
    return page.locator(f"li.conversation-item:has(a[title='{title}'])")


def test_two_thousand_conversations_load_in_pages_under_date_headings(page):
    sign_up(page, "hoarder")
    many_conversations("hoarder")
    page.reload()

    expect(items(page)).to_have_count(50)  # the new chat, then the 49 newest
    assert headings(page) == ["Today", "Yesterday", "Previous 7 days", "Previous 30 days"]

    scroll_the_list_to_its_end(page)
    expect(items(page)).to_have_count(100)
    scroll_the_list_to_its_end(page)
    expect(items(page)).to_have_count(150)

    shown = headings(page)
    assert shown[:4] == ["Today", "Yesterday", "Previous 7 days", "Previous 30 days"]
    assert len(shown) == len(set(shown)) >= 5, "a month after the 30 days, no heading twice"
    titles = items(page).locator("a.conversation-link").all_inner_texts()
    assert titles[1:] == [f"Chat {n:04d}" for n in range(149)], "newest first, none missed or doubled"


def test_pin_moves_a_conversation_to_the_top_and_unpin_puts_it_back(page):
    sign_up(page, "pinner")
    many_conversations("pinner", count=120)
    page.reload()

    menu_of(page, "Chat 0030").get_by_role("button", name="Pin").click()

    expect(items(page).first).to_contain_text("Chat 0030")
    expect(page.locator("#group-pinned")).to_have_text("Pinned")
    expect(page.locator("a[aria-current='page']")).to_have_text("New chat")
    page.reload()
    expect(items(page).first).to_contain_text("Chat 0030")

    menu_of(page, "Chat 0030").get_by_role("button", name="Unpin").click()

    expect(page.locator("#group-pinned")).to_have_count(0)
    expect(items(page).nth(31)).to_contain_text("Chat 0030")


def test_the_open_conversation_is_highlighted_when_its_page_loads(page):
    sign_up(page, "reader")
    far = many_conversations("reader", count=200)[120]
    page.goto(f"/c/{far.pk}/")
    expect(page.locator("a[aria-current='page']")).to_have_count(0)  # not on the first page

    for loaded in (100, 150):
        scroll_the_list_to_its_end(page)
        expect(items(page)).to_have_count(loaded)

    expect(page.locator("a[aria-current='page']")).to_have_text("Chat 0120")


def test_a_conversation_that_gets_a_message_moves_to_the_top_of_today(page, llm):
    llm.script("Back to this", Reply(text="Welcome back."))
    sign_up(page, "returner")
    old = many_conversations("returner", count=60)[40]  # 13 days old: Previous 30 days
    page.goto(f"/c/{old.pk}/")

    page.get_by_role("textbox", name="Message").fill("Back to this")
    page.get_by_role("button", name="Send").click()

    expect(page.locator("#group-today + li.conversation-item")).to_contain_text("Chat 0040")
    expect(page.locator("a[aria-current='page']")).to_have_text("Chat 0040")
    expect(page.locator("li#conv-%d" % old.pk)).to_have_count(1)
    page.reload()
    expect(page.locator("#group-today + li.conversation-item")).to_contain_text("Chat 0040")


def test_a_chat_not_yet_loaded_in_the_list_comes_to_the_top_of_today_when_it_gets_a_message(page, llm):
    llm.script("Digging this up", Reply(text="Found it."))
    sign_up(page, "digger")
    far = many_conversations("digger", count=80)[70]  # past the list's first page
    page.goto(f"/c/{far.pk}/")
    expect(page.locator(f"li#conv-{far.pk}")).to_have_count(0)

    page.get_by_role("textbox", name="Message").fill("Digging this up")
    page.get_by_role("button", name="Send").click()

    expect(page.locator("#group-today + li.conversation-item")).to_contain_text("Chat 0070")
    expect(page.locator(f"li#conv-{far.pk}")).to_have_count(1)
    expect(page.locator("a[aria-current='page']")).to_have_text("Chat 0070")


def current_items(page):
    return page.locator("#conversation-list [aria-current='page']")


def test_renaming_and_pinning_another_chat_act_on_it_and_leave_the_open_one_current(page):
    sign_up(page, "renamer")
    many_conversations("renamer", count=3)
    page.reload()
    url = page.url

    item = menu_of(page, "Chat 0001")
    item.get_by_role("textbox", name="Rename").fill("Groceries")
    item.get_by_role("button", name="Save").click()

    expect(page.locator("a.conversation-link[title='Groceries']")).to_have_count(1)
    expect(current_items(page)).to_have_count(1)
    expect(current_items(page)).to_have_text("New chat")
    expect(page.get_by_role("heading", level=1)).to_have_text("New chat")
    assert page.url == url

    menu_of(page, "Groceries").get_by_role("button", name="Pin").click()

    expect(items(page).first).to_contain_text("Groceries")
    expect(current_items(page)).to_have_count(1)
    expect(current_items(page)).to_have_text("New chat")
    assert page.url == url


def test_deleting_another_chat_takes_it_out_and_leaves_the_open_one_open(page):
    sign_up(page, "deleter")
    older = many_conversations("deleter", count=3)[2]
    page.goto(f"/c/{older.pk}/")  # not the newest: going "home" would leave it

    page.once("dialog", lambda dialog: dialog.accept())
    menu_of(page, "Chat 0001").get_by_role("button", name="Delete").click()

    expect(page.locator("a.conversation-link[title='Chat 0001']")).to_have_count(0)
    expect(current_items(page)).to_have_count(1)
    expect(current_items(page)).to_have_text("Chat 0002")
    assert page.url.endswith(f"/c/{older.pk}/")
    page.reload()
    expect(page.locator("a.conversation-link[title='Chat 0001']")).to_have_count(0)


NOTICE = "Temporary chat: not in your list, search or exports, and deleted 24 hours after its last message."


@pytest.mark.parametrize("width", [1100, 390])
def test_a_temporary_chat_says_so_and_stays_out_of_the_list(page, llm, width):
    llm.script("Just between us", Reply(text="My lips are sealed."))
    sign_up(page, f"ghost{width}")
    page.set_viewport_size({"width": width, "height": 800})

    with page.expect_response(lambda response: "/temporary/" in response.url):
        page.get_by_role("switch", name="Temporary chat").check()
    expect(page.get_by_role("status").filter(has_text="Temporary chat:")).to_have_text(NOTICE)
    page.get_by_role("textbox", name="Message").fill("Just between us")
    page.get_by_role("button", name="Send").click()
    expect(page.locator('article[data-author="assistant"]').last).to_contain_text("My lips are sealed.")

    expect(page.get_by_role("switch", name="Temporary chat")).to_have_count(0)  # fixed from now on
    page.reload()
    expect(page.get_by_role("status").filter(has_text="Temporary chat:")).to_have_text(NOTICE)
    if width < 600:
        page.get_by_role("button", name="Chats").click()
    sidebar = page.get_by_role("navigation", name="Conversations")
    expect(sidebar.get_by_role("button", name="New chat")).to_be_visible()
    expect(sidebar).not_to_contain_text("Just between us")
