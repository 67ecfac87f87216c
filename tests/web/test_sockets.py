"""A person's chat sockets are capped, and each follows its session: a
log-out, a deactivated account, a changed password or a session that
vanished closes it with 4401 and a reason the page shows."""

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.sessions.models import Session
from django.test import Client

from museapp.asgi import application
from museapp.chat.models import Conversation, Message
from museapp.web.consumers import LOGGED_OUT, TOO_MANY_TABS
from tests.sockets import ORIGIN

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


@sync_to_async
def logged_in_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


async def socket_for(client: Client, conversation_id: int) -> WebsocketCommunicator:
    headers = [(b"origin", ORIGIN), (b"host", b"127.0.0.1:8000"),
               (b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode())]
    communicator = WebsocketCommunicator(application, f"/ws/chat/{conversation_id}/", headers=headers)
    connected, _ = await communicator.connect(timeout=5)
    assert connected
    return communicator


async def settled_socket_for(client: Client, conversation) -> WebsocketCommunicator:
    """A socket that has joined its groups: the catch-up frame of the
    conversation's answer comes after that."""
    await sync_to_async(Message.objects.create)(conversation=conversation, author="assistant", content="Hello.")
    communicator = await socket_for(client, conversation.pk)
    assert "Hello." in (await communicator.receive_output(timeout=5))["text"]
    return communicator


async def closing_of(communicator: WebsocketCommunicator, timeout: float = 5) -> dict:
    """The close frame, skipping the frames the page was sent before it."""
    while True:
        frame = await communicator.receive_output(timeout=timeout)
        if frame["type"] == "websocket.close":
            return frame


async def test_one_socket_past_the_cap_is_closed_with_4429_and_a_reason(user, conversation, settings):
    settings.MUSE_SOCKETS_PER_PERSON = 3
    client = await logged_in_client(user)
    tabs = [await socket_for(client, conversation.pk) for _ in range(3)]

    one_too_many = await socket_for(client, conversation.pk)

    closing = await closing_of(one_too_many)
    assert (closing["code"], closing["reason"]) == (4429, TOO_MANY_TABS)
    await tabs[0].disconnect()
    another = await socket_for(client, conversation.pk)  # a closed tab frees its place
    assert await another.receive_nothing(timeout=0.5)
    for tab in [*tabs[1:], another]:
        await tab.disconnect()


async def test_another_persons_sockets_do_not_count_against_mine(user, other_user, conversation, settings):
    settings.MUSE_SOCKETS_PER_PERSON = 1
    theirs = await sync_to_async(Conversation.objects.create)(user=other_user)
    their_tab = await socket_for(await logged_in_client(other_user), theirs.pk)

    my_tab = await socket_for(await logged_in_client(user), conversation.pk)

    assert await my_tab.receive_nothing(timeout=0.5)
    await my_tab.disconnect()
    await their_tab.disconnect()


async def test_logging_out_closes_that_sessions_sockets(user, conversation):
    client = await logged_in_client(user)
    tab = await settled_socket_for(client, conversation)

    await sync_to_async(client.post)("/accounts/logout/")

    closing = await closing_of(tab)
    assert (closing["code"], closing["reason"]) == (4401, LOGGED_OUT)


async def test_deactivating_the_account_closes_its_sockets(user, conversation):
    tab = await settled_socket_for(await logged_in_client(user), conversation)

    user.is_active = False
    await sync_to_async(user.save)()

    assert (await closing_of(tab))["code"] == 4401


async def test_a_password_change_closes_the_sockets_of_the_other_sessions(user, conversation):
    tab = await settled_socket_for(await logged_in_client(user), conversation)

    user.set_password("a brand new horse 77")
    await sync_to_async(user.save)()

    assert (await closing_of(tab))["code"] == 4401


async def test_a_session_that_vanished_is_noticed_by_the_periodic_recheck(user, conversation, settings):
    settings.MUSE_SESSION_RECHECK = 0.3
    tab = await settled_socket_for(await logged_in_client(user), conversation)

    await sync_to_async(Session.objects.all().delete)()  # no signal: only the re-check can tell

    assert (await closing_of(tab))["code"] == 4401


async def test_an_unchanged_session_keeps_its_socket_open(user, conversation, settings):
    settings.MUSE_SESSION_RECHECK = 0.2
    tab = await settled_socket_for(await logged_in_client(user), conversation)

    user.first_name = "Ada"
    await sync_to_async(user.save)()  # a save that changes neither password nor activity

    assert await tab.receive_nothing(timeout=1.0), "still open"
    await tab.disconnect()
