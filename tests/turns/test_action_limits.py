"""Each turn service counts its own limits, from the database's state, and
tells the conversation's pages what changed once it commits: the socket is
one caller among others, and every caller gets the same limits and events."""

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.test import Client
from django.urls import reverse

from museapp.chat.models import Conversation, Message
from museapp.streams import events
from museapp.streams.names import conversation_group
from museapp.turns import limits
from museapp.turns import services as turns
from tests.fakellm import Reply
from tests.sockets import Frames, answer_ended, answer_of, open_chat, send

BROWSING_REFUSED = "flipping through messages faster than Muse allows (2 a minute)"


def questions_in(conversation) -> list[str]:
    return list(Message.objects.filter(conversation=conversation, author="user").order_by("id")
                .values_list("content", flat=True))


def two_versions(conversation) -> tuple[Message, Message]:
    """A question answered twice (the second version shown)."""
    question = Message.objects.create(conversation=conversation, author="user", content="Name a tea")
    first = Message.objects.create(conversation=conversation, author="assistant", content="Sencha.",
                                   status="done", parent=question)
    second = Message.objects.create(conversation=conversation, author="assistant", content="Gyokuro.",
                                    status="done", parent=question)
    Conversation.objects.filter(pk=conversation.pk).update(current_leaf=second)
    return first, second


# --- with the socket ----------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
@pytest.mark.usefixtures("celery_worker_process")
async def test_an_edit_counts_as_a_contemplation_when_the_conversation_contemplates(user, conversation, llm,
                                                                                     settings):
    settings.MUSE_RATE_CONTEMPLATIONS = "1/hour"
    socket = await open_chat(user, conversation.pk)  # opened before the switch was turned on
    frames = Frames(socket)
    await send(socket, message="Think about tea", contemplate="on", client_id="c1")
    await frames.contains("Think about tea")
    answer = await answer_of(conversation)
    await frames.until(answer_ended(answer.pk), timeout=60)
    question = await Message.objects.filter(conversation=conversation, author="user").afirst()

    await send(socket, action="edit", message_id=question.pk, message="Think about coffee")

    text = await frames.contains("contemplating runs faster")
    assert "starting contemplating runs faster than Muse allows (1 an hour)" in text.replace("&#x27;", "'")
    assert await sync_to_async(questions_in)(conversation) == ["Think about tea"], "no edit saved, nothing ran"
    await socket.disconnect()


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_showing_versions_faster_than_the_browsing_limit_is_refused(user, conversation, settings):
    settings.MUSE_RATE_BROWSING = "2/min"
    first, second = await sync_to_async(two_versions)(conversation)
    socket = await open_chat(user, conversation.pk)
    frames = Frames(socket)

    for version in (first, second):
        mark = len(frames.text)
        await send(socket, action="show_version", message_id=version.pk)
        await frames.until(lambda text: '<div id="messages" hx-swap-oob="innerHTML">' in text[mark:])
    await send(socket, action="show_version", message_id=first.pk)

    await frames.until(lambda text: BROWSING_REFUSED in text.replace("&#x27;", "'"))
    fresh = await Conversation.objects.aget(pk=conversation.pk)
    assert fresh.current_leaf_id == second.pk, "the refused flip changed nothing"
    await socket.disconnect()


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
@pytest.mark.usefixtures("celery_worker_process")
async def test_a_turn_started_without_the_socket_is_shown_in_the_conversations_pages(user, conversation, llm):
    llm.script("From elsewhere", Reply(text="Seen everywhere."))
    socket = await open_chat(user, conversation.pk)
    frames = Frames(socket)

    turn = await sync_to_async(turns.turn_start)(conversation=conversation, text="From elsewhere")

    await frames.contains("From elsewhere")
    await frames.until(answer_ended(turn.answer.pk), timeout=30)
    assert "Seen everywhere." in frames.text
    await socket.disconnect()


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_a_version_shown_without_the_socket_is_announced_once_it_commits(conversation):
    first, _ = await sync_to_async(two_versions)(conversation)
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add(conversation_group(conversation.pk), channel)

    await sync_to_async(turns.branch_show)(message=await Message.objects.select_related("conversation")
                                           .aget(pk=first.pk))

    event = await layer.receive(channel)
    events.check(event)
    assert event["type"] == events.BRANCH_CHANGED
    await layer.group_discard(conversation_group(conversation.pk), channel)


# --- services, called as any other caller would -------------------------------


@pytest.mark.django_db
def test_a_second_caller_gets_the_same_message_limit(conversation, settings):
    settings.MUSE_RATE_MESSAGES = "1/min"
    turns.turn_start(conversation=conversation, text="the first")
    Message.objects.filter(conversation=conversation).update(status="done")

    with pytest.raises(limits.RateLimited, match="sending messages faster"):
        turns.turn_start(conversation=conversation, text="the second")
    assert questions_in(conversation) == ["the first"]


@pytest.mark.django_db
def test_regenerating_counts_as_a_message(conversation, settings):
    settings.MUSE_RATE_MESSAGES = "1/min"
    first, _ = two_versions(conversation)
    turns.answer_regenerate(message=first)
    Message.objects.filter(conversation=conversation).update(status="done")

    with pytest.raises(limits.RateLimited, match="sending messages faster"):
        turns.answer_regenerate(message=first)


@pytest.mark.django_db
def test_an_evaluations_turns_count_against_nobody(conversation, settings):
    settings.MUSE_RATE_MESSAGES = "1/min"
    Conversation.objects.filter(pk=conversation.pk).update(is_evaluation=True)
    conversation.refresh_from_db()
    for text in ("one", "two"):
        turns.turn_start(conversation=conversation, text=text)
        Message.objects.filter(conversation=conversation).update(status="done")

    assert questions_in(conversation) == ["one", "two"]


@pytest.mark.django_db
def test_loading_older_messages_counts_against_the_browsing_limit(user, conversation, settings):
    settings.MUSE_RATE_BROWSING = "2/min"
    client = Client()
    client.force_login(user)
    url = reverse("chat:older", args=[conversation.pk])

    pages = [client.get(url).content.decode().replace("&#x27;", "'") for _ in range(3)]

    assert BROWSING_REFUSED not in pages[1]
    assert BROWSING_REFUSED in pages[2]
    assert "Load earlier messages</button>" in pages[2], "a button to try again"
