"""The search box at the top of the sidebar, its results as htmx asks for
them (/search/?q=...), and a result's link opening the conversation at the
message found."""

import re

import pytest
from django.urls import reverse

from museapp.chat.models import Conversation, Message
from museapp.web.views import NOT_SHOWN
from tests.markup import parse_html
from tests.trees import link_in_order

pytestmark = pytest.mark.django_db

XSS = '<img src=x onerror=alert(1)> <script>alert("walrus")</script> the walrus'


@pytest.fixture
def logged_in(client, user):
    client.force_login(user)
    return client


def chat(user, title, *texts, **fields) -> Conversation:
    conversation = Conversation.objects.create(user=user, title=title, **fields)
    for text in texts:
        Message.objects.create(conversation=conversation, author="user", content=text)
    return conversation


def search(client, q: str) -> str:
    response = client.get(reverse("chat:search"), {"q": q}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    return response.content.decode()


def test_the_sidebar_has_the_search_box(logged_in, user):
    page = parse_html(logged_in.get(reverse("chat:detail", args=[chat(user, "Mine").pk])).content.decode())

    box = page.one("input", aria_label="Search conversations")
    assert box.attrs["type"] == "search" and box.attrs["hx-get"] == reverse("chat:search")
    assert "delay:250ms" in box.attrs["hx-trigger"]


def test_a_result_links_to_its_message_with_the_words_marked(logged_in, user):
    conversation = chat(user, "Zoo trip", "We saw a walrus.")
    message = conversation.messages.get()

    results = parse_html(search(logged_in, "walrus"))

    link = results.one("a")
    assert link.attrs["href"] == f"/c/{conversation.pk}/?m={message.pk}#msg-{message.pk}"
    assert "Zoo trip" in link.text
    assert [mark.text for mark in link.all("mark")] == ["walrus"]


def test_xss_in_messages_and_titles_stays_text(logged_in, user):
    chat(user, '<script>alert("title")</script> walrus', XSS)

    html = search(logged_in, "walrus")

    assert "<script" not in html and "<img" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_an_empty_box_shows_the_list_again_and_counts_nothing(logged_in, user, settings):
    settings.MUSE_RATE_BROWSING = "1/min"
    chat(user, "Walrus", "walrus")

    html = search(logged_in, "")
    for _ in range(3):
        search(logged_in, " ")

    assert 'id="search-results"' in html and "data-active" not in html
    assert "<mark>" in search(logged_in, "walrus"), "the one search allowed is still there"


def test_nothing_found_says_so(logged_in, user):
    assert "No conversations match “platypus”." in search(logged_in, "platypus")


def test_others_conversations_are_not_found(logged_in, user, other_user):
    chat(other_user, "Walrus secrets", "my secret walrus")

    html = search(logged_in, "walrus")

    assert "secret" not in html and "No conversations match" in html


def test_searching_faster_than_the_browsing_limit_is_refused(logged_in, user, settings):
    settings.MUSE_RATE_BROWSING = "2/min"
    chat(user, "Walrus", "walrus")

    search(logged_in, "walrus")
    search(logged_in, "walru")
    html = search(logged_in, "walr")

    assert "faster than Muse allows" in html.replace("&#x27;", "'") and "<mark>" not in html


def test_a_huge_query_is_cut_to_its_start(logged_in, user):
    chat(user, "Walrus", "walrus")

    html = search(logged_in, "walrus" + " " * 100_000 + "zebra")

    assert "<mark>walrus</mark>" in html, "the zebra, far past the cut, is not asked for"


def test_logged_out_the_search_sends_to_log_in(client):
    response = client.get(reverse("chat:search"), {"q": "walrus"})

    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


# --- opening a result --------------------------------------------------------


@pytest.fixture
def long_conversation(user):
    conversation = Conversation.objects.create(user=user, title="Long")
    Message.objects.bulk_create(
        Message(conversation=conversation, author=author, content=f"{author} turn {i:03d}")
        for i in range(150) for author in ("user", "assistant"))
    link_in_order()
    return conversation


def ids_in(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'<article id="msg-(\d+)"', html)]


def test_a_message_older_than_the_first_page_is_loaded_with_the_rest(logged_in, long_conversation):
    early = long_conversation.messages.get(content="user turn 010")

    page = logged_in.get(f"/c/{long_conversation.pk}/?m={early.pk}").content.decode()

    shown = ids_in(page)
    assert early.pk in shown and shown.index(early.pk) == 2, "two messages before it, for context"
    assert max(shown) == long_conversation.messages.order_by("-id")[0].pk, "and the latest, as always"
    assert f"/older/?before={shown[0]}" in page


def test_a_message_on_another_branch_opens_the_conversation_and_says_so(logged_in, user):
    conversation = chat(user, "Versions", "first question")
    question = conversation.messages.get()
    old = Message.objects.create(conversation=conversation, author="assistant", content="old answer", parent=question)
    Message.objects.create(conversation=conversation, author="assistant", content="new answer", parent=question)

    page = logged_in.get(f"/c/{conversation.pk}/?m={old.pk}").content.decode()

    assert old.pk not in ids_in(page) and NOT_SHOWN.replace("'", "&#x27;") in page


@pytest.mark.parametrize("m", ["x", "-1", "99999999999999999999999", ""])
def test_a_mangled_message_id_still_opens_the_conversation(logged_in, user, m):
    conversation = chat(user, "Mine", "hello")

    response = logged_in.get(f"/c/{conversation.pk}/?m={m}")

    assert response.status_code == 200 and "hello" in response.content.decode()


def test_another_persons_message_id_says_nothing(logged_in, user, other_user):
    mine = chat(user, "Mine", "hello")
    theirs = chat(other_user, "Theirs", "secret").messages.get()

    page = logged_in.get(f"/c/{mine.pk}/?m={theirs.pk}").content.decode()

    assert "secret" not in page and "another version" not in page
