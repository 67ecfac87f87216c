"""The sidebar's list: pinned first, date groups, pages by keyset as it
scrolls, the open conversation highlighted, temporary chats never listed."""

from datetime import date, datetime, timedelta, timezone as dt_timezone
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.utils import timezone

from museapp.chat import services, sidebar
from museapp.chat.models import Conversation, Message
from museapp.chat.sidebar import Cursor, group_of
from tests.markup import Element, parse_html

pytestmark = pytest.mark.django_db

UTC = dt_timezone.utc
NOW = datetime(2026, 12, 6, 15, 0, tzinfo=UTC)
TODAY = NOW.date()


@pytest.fixture
def logged_in(client, user):
    client.force_login(user)
    return client


def made(user, title: str, *, at: datetime, **fields) -> Conversation:
    """A conversation last touched ``at`` (updated_at is auto_now: set by update)."""
    conversation = Conversation.objects.create(user=user, title=title, **fields)
    Conversation.objects.filter(pk=conversation.pk).update(updated_at=at)
    conversation.refresh_from_db()
    return conversation


def titles(page: sidebar.Page) -> list[str]:
    return [row.conversation.title for row in page.rows if row.conversation]


def headings(page: sidebar.Page) -> list[str]:
    return [row.heading.label for row in page.rows if row.heading]


def page_of(client, conversation, after: str = "") -> Element:
    path = f"/c/{conversation.pk}/sidebar/" + (f"?after={after}" if after else "")
    response = client.get(path) if after else client.get(f"/c/{conversation.pk}/")
    assert response.status_code == 200
    return parse_html(response.content.decode())


def listed_ids(page: Element) -> list[int]:
    return [int(item.attrs["id"].removeprefix("conv-")) for item in page.all("li")
            if item.attrs.get("id", "").startswith("conv-")]


def marker(page: Element) -> Element:
    """The item that loads the next page."""
    return page.one("li", **{"class": "conversation-more"})


def next_cursor(page: Element) -> str:
    return marker(page).attrs["hx-get"].split("after=")[1]


# --- groups -------------------------------------------------------------------


@pytest.mark.parametrize("days_ago, heading", [
    (0, "Today"), (1, "Yesterday"), (2, "Previous 7 days"), (7, "Previous 7 days"),
    (8, "Previous 30 days"), (30, "Previous 30 days"), (31, "November"), (70, "September"),
    (340, "December 2025"), (800, "September 2024"),
])
def test_a_conversation_is_grouped_by_how_long_ago_it_changed(days_ago, heading):
    moment = NOW - timedelta(days=days_ago)

    assert group_of(moment, today=TODAY, zone=UTC).label == heading


def test_today_is_the_persons_own_day():
    late_evening_in_new_york = datetime(2026, 12, 6, 3, 0, tzinfo=UTC)  # 22:00 on the 5th there
    new_york = ZoneInfo("America/New_York")

    assert group_of(late_evening_in_new_york, today=date(2026, 12, 6), zone=new_york).label == "Yesterday"
    assert group_of(late_evening_in_new_york, today=date(2026, 12, 6), zone=UTC).label == "Today"


def test_the_list_is_pinned_first_then_groups_newest_first(user):
    made(user, "Last month", at=NOW - timedelta(days=40))
    made(user, "This morning", at=NOW - timedelta(hours=5))
    made(user, "Pinned long ago", at=NOW - timedelta(days=400), pinned_at=NOW - timedelta(days=2))
    made(user, "Yesterday's", at=NOW - timedelta(days=1))
    made(user, "Pinned later", at=NOW - timedelta(days=3), pinned_at=NOW - timedelta(days=1))

    page = sidebar.sidebar_page(user=user, after=None, zone=UTC, now=NOW)

    assert titles(page) == ["Pinned later", "Pinned long ago", "This morning", "Yesterday's", "Last month"]
    assert headings(page) == ["Pinned", "Today", "Yesterday", "October"]
    assert page.after == ""


def test_the_first_page_always_has_a_today_heading_for_conversations_moved_there_live(user):
    made(user, "Old", at=NOW - timedelta(days=3))

    page = sidebar.sidebar_page(user=user, after=None, zone=UTC, now=NOW)

    assert headings(page) == ["Today", "Previous 7 days"]


def test_temporary_chats_are_never_listed(user):
    made(user, "Kept", at=NOW)
    made(user, "Temporary", at=NOW, is_temporary=True)

    assert titles(sidebar.sidebar_page(user=user, after=None, zone=UTC, now=NOW)) == ["Kept"]
    assert list(Conversation.objects.listed().values_list("title", flat=True)) == ["Kept"]


# --- pages ----------------------------------------------------------------------


def every_page(user) -> list[sidebar.Page]:
    pages = [sidebar.sidebar_page(user=user, after=None, zone=UTC, now=NOW)]
    while pages[-1].after:
        pages.append(sidebar.sidebar_page(user=user, after=Cursor.parse(pages[-1].after), zone=UTC, now=NOW))
    return pages


def test_pages_cover_every_conversation_once_in_order_even_with_equal_timestamps(user):
    same_moment = NOW - timedelta(days=3)
    Conversation.objects.bulk_create([Conversation(user=user, title=f"chat {n}") for n in range(130)])
    Conversation.objects.filter(user=user).update(updated_at=same_moment)
    newest_first = list(Conversation.objects.filter(user=user).order_by("-id").values_list("title", flat=True))

    pages = every_page(user)

    assert [len(titles(page)) for page in pages] == [50, 50, 30]
    assert [title for page in pages for title in titles(page)] == newest_first


def test_a_group_that_goes_on_over_a_page_break_is_not_headed_twice(user):
    Conversation.objects.bulk_create([Conversation(user=user, title=f"chat {n}") for n in range(60)])
    for n, pk in enumerate(Conversation.objects.filter(user=user).order_by("-id").values_list("pk", flat=True)):
        Conversation.objects.filter(pk=pk).update(updated_at=NOW - timedelta(days=2, minutes=n))
    made(user, "Older", at=NOW - timedelta(days=20))

    first, second = every_page(user)

    assert headings(first) == ["Today", "Previous 7 days"]
    assert headings(second) == ["Previous 30 days"]
    assert titles(second) == [f"chat {n}" for n in range(9, -1, -1)] + ["Older"]


def test_a_cursor_from_the_url_must_be_two_numbers():
    assert Cursor.parse(Cursor(NOW, 42).encode()) == Cursor(NOW, 42)
    for bad in ["", "12", "a.b", "1.2.3", "-1.2", "１.2", "9" * 30 + ".1"]:
        with pytest.raises(Exception) as refused:
            Cursor.parse(bad)
        assert refused.type.__name__ == "Http404"


# --- the pages the browser asks for ---------------------------------------------


def test_the_chat_page_shows_the_first_page_and_a_marker_for_the_next(logged_in, user):
    Conversation.objects.bulk_create([Conversation(user=user, title=f"chat {n}") for n in range(120)])
    opened = Conversation.objects.filter(user=user).order_by("id").first()  # the oldest: on the last page

    page = page_of(logged_in, opened)

    assert len(listed_ids(page)) == 50
    more = marker(page)
    assert more.attrs["hx-trigger"] == "intersect once" and more.attrs["hx-swap"] == "outerHTML"
    assert more.attrs["hx-get"].startswith(f"/c/{opened.pk}/sidebar/?after=")
    assert page.all("a", aria_current="page") == []


def test_the_open_conversation_is_highlighted_on_the_page_it_comes_in(logged_in, user):
    Conversation.objects.bulk_create([Conversation(user=user, title=f"chat {n}") for n in range(120)])
    opened = Conversation.objects.filter(user=user).order_by("id").first()
    second = page_of(logged_in, opened, next_cursor(page_of(logged_in, opened)))
    third = page_of(logged_in, opened, next_cursor(second))

    assert len(listed_ids(second)) == 50 and len(listed_ids(third)) == 20
    assert third.all("li", **{"class": "conversation-more"}) == []
    assert third.one("a", aria_current="page").attrs["href"] == f"/c/{opened.pk}/"


def test_a_garbled_cursor_is_a_404(logged_in, conversation):
    assert logged_in.get(f"/c/{conversation.pk}/sidebar/?after=drop+table").status_code == 404


def test_too_many_pages_too_fast_keep_the_marker_with_a_button(logged_in, conversation, settings):
    settings.MUSE_RATE_BROWSING = "1/min"
    after = Cursor(timezone.now(), 1).encode()
    logged_in.get(f"/c/{conversation.pk}/sidebar/?after={after}")

    refused = page_of(logged_in, conversation, after)

    assert "faster than Muse allows" in marker(refused).text
    assert marker(refused).one("button").text == "Load more conversations"


# --- pin and unpin --------------------------------------------------------------


def test_pin_moves_a_conversation_to_the_top_and_unpin_puts_it_back(logged_in, user):
    older = made(user, "Older", at=timezone.now() - timedelta(days=9))
    newer = made(user, "Newer", at=timezone.now() - timedelta(days=1))

    pinned = logged_in.post(f"/c/{older.pk}/pin/", {"current": newer.pk}, headers={"HX-Request": "true"})

    page = parse_html(pinned.content.decode())
    assert listed_ids(page) == [older.pk, newer.pk]
    assert page.one("li", id="group-pinned").text == "Pinned"
    assert page.one("a", aria_current="page").attrs["href"] == f"/c/{newer.pk}/"
    assert [b.text for b in page.one("li", id=f"conv-{older.pk}").all("button")] == ["Save", "Unpin", "Share", "Delete"]

    unpinned = logged_in.post(f"/c/{older.pk}/unpin/", {"current": newer.pk}, headers={"HX-Request": "true"})

    assert listed_ids(parse_html(unpinned.content.decode())) == [newer.pk, older.pk]
    older.refresh_from_db()
    assert older.pinned_at is None
    assert older.updated_at < timezone.now() - timedelta(days=8), "pinning is not activity: it keeps its place"


def test_pin_without_htmx_returns_to_the_conversation(logged_in, conversation):
    response = logged_in.post(f"/c/{conversation.pk}/pin/")

    assert response.status_code == 302 and response["Location"] == f"/c/{conversation.pk}/"
    conversation.refresh_from_db()
    assert conversation.pinned_at is not None


def test_pinning_twice_keeps_the_first_pin(conversation):
    services.conversation_pin(conversation=conversation, pinned=True)
    first = Conversation.objects.get(pk=conversation.pk).pinned_at

    services.conversation_pin(conversation=Conversation.objects.get(pk=conversation.pk), pinned=True)

    assert Conversation.objects.get(pk=conversation.pk).pinned_at == first


@pytest.mark.parametrize("action", ["pin", "unpin"])
def test_pinning_someone_elses_conversation_is_a_404(other_user, user, action):
    theirs = Conversation.objects.create(user=user, title="Private")
    attacker = Client()
    attacker.force_login(other_user)

    assert attacker.post(f"/c/{theirs.pk}/{action}/").status_code == 404
    assert attacker.get(f"/c/{theirs.pk}/sidebar/?after={Cursor(NOW, 99).encode()}").status_code == 404
    theirs.refresh_from_db()
    assert theirs.pinned_at is None


def test_the_current_field_cannot_reveal_someone_elses_conversation(logged_in, conversation, other_user):
    theirs = Conversation.objects.create(user=other_user, title="Mallory's secrets")

    response = logged_in.post(f"/c/{conversation.pk}/pin/", {"current": theirs.pk}, headers={"HX-Request": "true"})

    assert response.status_code == 200 and b"Mallory" not in response.content
    assert parse_html(response.content.decode()).one("a", aria_current="page").attrs["href"] == f"/c/{conversation.pk}/"


# --- home and new chat ----------------------------------------------------------


def test_home_never_opens_a_temporary_chat(logged_in, user):
    kept = made(user, "Kept", at=timezone.now() - timedelta(days=1))
    temporary = Conversation.objects.create(user=user, title="Secret", is_temporary=True)
    Message.objects.create(conversation=temporary, author="user", content="hi")

    assert logged_in.get("/")["Location"] == f"/c/{kept.pk}/"


def test_new_chat_reuses_an_empty_temporary_chat_as_an_ordinary_one_at_the_top(logged_in, user):
    used = Conversation.objects.create(user=user, title="Used")
    Message.objects.create(conversation=used, author="user", content="hi")
    empty = made(user, "", at=timezone.now() - timedelta(days=50), is_temporary=True)
    before = timezone.now()

    response = logged_in.post("/c/new/")

    assert response["Location"] == f"/c/{empty.pk}/"
    empty.refresh_from_db()
    assert not empty.is_temporary and empty.updated_at >= before
