"""With PostgreSQL, a web process saves turns in parallel threads, each on a
connection from its pool. Every thread gives its connection back when the
turn is saved: a thread left idle holding one would keep it from everybody
else, and with more threads than the pool has connections the next turn
would wait for one until it timed out."""

import asyncio
import time

import pytest
from asgiref.sync import sync_to_async
from django.db import connection, connections

from museapp.chat.models import Message
from tests.fakellm import Reply
from tests.sockets import Frames, answer_ended, open_chat, send

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.asyncio,
    pytest.mark.usefixtures("celery_worker_process"),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite has no connection pool"),
]


@sync_to_async
def connections_in_use() -> int:
    """Connections checked out of the pool, leaving out the one this test's
    own queries hold (in asgiref's thread, where this runs too)."""
    connection.close()
    stats = connections["default"].pool.get_stats()
    return stats["pool_size"] - stats.get("pool_available", 0)


async def newest_answer_ends(frames: Frames, conversation) -> Message:
    answer = await Message.objects.filter(conversation=conversation, author="assistant").alatest("id")
    await frames.until(answer_ended(answer.pk), timeout=30)
    return answer


async def test_sending_regenerating_and_editing_give_every_connection_back_to_the_pool(user, conversation, llm):
    llm.script("pooled", Reply(text="Back in the pool."))
    socket = await open_chat(user, conversation.pk)
    frames = Frames(socket)
    before = await connections_in_use()

    await send(socket, message="pooled question")
    await frames.contains("pooled question")  # the turn: its rows are saved
    first = await newest_answer_ends(frames, conversation)
    await send(socket, action="regenerate", message_id=first.pk)
    await frames.contains('<div id="messages" hx-swap-oob="innerHTML">')  # the new version, saved and shown
    await newest_answer_ends(frames, conversation)
    await send(socket, action="edit", message_id=first.parent_id, message="pooled again")
    await frames.contains("pooled again")
    await newest_answer_ends(frames, conversation)

    deadline = time.monotonic() + 10
    while await connections_in_use() > before and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert await connections_in_use() == before, "a thread that saved a turn still holds its connection"
    assert await Message.objects.filter(conversation=conversation, author="assistant").acount() == 3
    await socket.disconnect()
