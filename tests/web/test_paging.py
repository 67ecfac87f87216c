"""A long conversation's page shows its latest 50 turns; earlier ones load
as the page scrolls up (htmx asks for them when the marker is revealed)."""

import re

import pytest
from django.urls import reverse

from museapp.chat.models import Message
from tests.trees import link_in_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def long_conversation(conversation):
    Message.objects.bulk_create(
        Message(conversation=conversation, author=author, content=f"{author} turn {i:03d}")
        for i in range(300) for author in ("user", "assistant")
    )
    link_in_order()
    return conversation


def ids_in(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'<article id="msg-(\d+)"', html)]


def test_the_page_shows_the_latest_fifty_turns_and_a_marker_for_earlier_ones(client, user, long_conversation):
    client.force_login(user)

    page = client.get(reverse("chat:detail", args=[long_conversation.pk])).content.decode()

    assert len(ids_in(page)) == 100
    assert "user turn 250" in page and "assistant turn 299" in page and "user turn 249" not in page
    before = min(ids_in(page))
    assert f'hx-get="/c/{long_conversation.pk}/older/?before={before}" hx-trigger="revealed"' in page


def test_scrolling_up_loads_the_fifty_turns_before_then_the_rest(client, user, long_conversation):
    client.force_login(user)
    page = client.get(reverse("chat:detail", args=[long_conversation.pk])).content.decode()
    seen = ids_in(page)

    while (marker := re.search(r'hx-get="([^"]+/older/\?before=\d+)"', page)) is not None:
        page = client.get(marker[1].replace("&amp;", "&")).content.decode()
        assert ids_in(page) == sorted(ids_in(page)) and max(ids_in(page)) < min(seen), "older, in order"
        seen = ids_in(page) + seen

    assert seen == sorted(Message.objects.filter(conversation=long_conversation).values_list("pk", flat=True))


def test_a_short_conversation_has_no_marker(client, user, conversation):
    Message.objects.create(conversation=conversation, author="user", content="hi")
    client.force_login(user)

    page = client.get(reverse("chat:detail", args=[conversation.pk])).content.decode()

    assert "older-messages" not in page and "hi" in page


def test_someone_elses_earlier_messages_are_a_404(client, other_user, long_conversation):
    client.force_login(other_user)

    response = client.get(reverse("chat:older", args=[long_conversation.pk]) + "?before=50")

    assert response.status_code == 404
