"""Talk to the chat consumer the way the page does: a session cookie, an
Origin header, JSON in, htmx HTML frames out."""

from __future__ import annotations

import asyncio
import html
import json
import re
import time
from collections.abc import Callable

from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from museapp.asgi import application
from museapp.chat.models import Message

ORIGIN = b"http://127.0.0.1:8000"


@sync_to_async
def session_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


async def knock(user, conversation_id, *, origin: bytes = ORIGIN) -> tuple[WebsocketCommunicator, bool]:
    """Try to open a chat socket; returns it and whether the handshake passed."""
    headers = [(b"origin", origin), (b"host", b"127.0.0.1:8000")]
    if user is not None:
        headers.append((b"cookie", f"sessionid={await session_cookie(user)}".encode()))
    communicator = WebsocketCommunicator(application, f"/ws/chat/{conversation_id}/", headers=headers)
    connected, _ = await communicator.connect(timeout=5)
    return communicator, connected


async def open_chat(user, conversation_id, *, origin: bytes = ORIGIN) -> WebsocketCommunicator:
    communicator, connected = await knock(user, conversation_id, origin=origin)
    assert connected
    return communicator


async def close_code(communicator: WebsocketCommunicator) -> int | None:
    frame = await communicator.receive_output(timeout=5)
    assert frame["type"] == "websocket.close", frame
    return frame.get("code")


async def send(communicator: WebsocketCommunicator, **payload) -> None:
    await communicator.send_to(text_data=json.dumps(payload))


class Frames:
    """Everything a socket received, with waiting helpers."""

    def __init__(self, communicator: WebsocketCommunicator):
        self.communicator = communicator
        self.received: list[str] = []

    @property
    def text(self) -> str:
        return "".join(self.received)

    async def until(self, predicate, timeout: float = 10.0) -> str:
        deadline = time.monotonic() + timeout
        while not predicate(self.text):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"timed out; frames so far:\n{self.text[-2000:]}")
            try:
                frame = await self.communicator.receive_output(timeout=remaining)
            except asyncio.TimeoutError:
                continue
            if frame["type"] == "websocket.close":
                raise AssertionError(f"socket closed with {frame.get('code')}")
            self.received.append(frame.get("text", ""))
        return self.text

    async def contains(self, needle: str, timeout: float = 10.0) -> str:
        return await self.until(lambda text: needle in text, timeout)


def answer_ended(answer_id: int, status: str = "done") -> Callable[[str], bool]:
    """For ``Frames.until`` (and ``tests.live.Tab.until``): this answer's own
    article has arrived with ``status``. Wait on that, never on a count of
    status markup: an answer is rendered several times (its turn, each change,
    a reconnect's snapshot), so a count can be met by an earlier one alone."""
    article = re.compile(rf'<article id="msg-{int(answer_id)}"[^>]*\sdata-status="{re.escape(status)}"')
    return lambda text: article.search(text) is not None


async def answer_until_done(user, conversation, **payload) -> Message:
    """Send ``payload`` (a message) on a new socket, wait for its answer to
    end, and return the answer as saved."""
    socket = await open_chat(user, conversation.pk)
    frames = Frames(socket)
    await send(socket, **payload)
    await frames.contains(payload["message"])  # the turn: its rows are saved
    answer = await answer_of(conversation)
    await frames.until(answer_ended(answer.pk), timeout=30)
    await socket.disconnect()
    return await Message.objects.aget(pk=answer.pk)


@sync_to_async
def messages_of(conversation) -> list[Message]:
    return list(Message.objects.filter(conversation=conversation).order_by("id"))


@sync_to_async
def answer_of(conversation) -> Message | None:
    return Message.objects.filter(conversation=conversation, author="assistant").last()


def shown_in(frames_text: str, stream: str) -> str:
    """What a page shows of a stream: the text it was given on connecting
    (rendered), then every token frame's text after it."""
    snapshot = re.search(rf'id="{stream}-body">(.*?)</div>', frames_text, re.S)
    assert snapshot, f"the page was given {stream}'s current text"
    after = frames_text[snapshot.end():]
    appended = re.findall(rf'<span id="{stream}-tail" hx-swap-oob="beforeend">(.*?)</span>', after, re.S)
    before_the_tail = snapshot.group(1).split(f'<span id="{stream}-tail"')[0]
    return html.unescape(re.sub(r"<[^>]+>", "", before_the_tail) + "".join(appended))
