"""A WebSocket message far bigger than anything the page sends is refused by
the server (uvicorn's --ws-max-size, close 1009) before it is read into
memory: the web process started as `manage.py serve` starts it, a real
socket, a logged-in person, 2 MB frames."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from museapp.chat.models import Conversation, Message
from tests.conftest import wait_until
from tests.live import Process, Stack, Tab, session_for
from tests.sockets import answer_ended

pytestmark = [pytest.mark.processes, pytest.mark.django_db(transaction=True)]

HUGE = "x" * 2_000_000
SOCKETS = 10
MESSAGE_TOO_BIG = 1009
ALLOWED_GROWTH_KIB = 20 * 1024


@pytest.fixture
def stack(tmp_path, llm):
    stack = Stack(tmp_path)
    yield stack
    stack.stop()


def chat_socket(web: Process, session: str, conversation_id: int, compression: str | None) -> ClientConnection:
    return connect(f"ws://{web.host}/ws/chat/{conversation_id}/", open_timeout=10, compression=compression,
                   additional_headers={"Cookie": f"sessionid={session}", "Origin": f"http://{web.host}"})


def outcome_of_sending(socket: ClientConnection, text: str) -> int | str | None:
    """The close code the server sent after ``text`` (None: the connection
    was reset before its close frame could be read), or "open"."""
    try:
        socket.send(text)
        while True:
            socket.recv(timeout=5)  # a refusal frame means the server read it all
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd else None
    except TimeoutError:
        return "open"
    finally:
        socket.close()


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        line = next(line for line in status if line.startswith("VmRSS:"))
    return int(line.split()[1])


class PeakRSS:
    """The web process's largest resident size while the block runs."""

    def __init__(self, pid: int):
        self.pid, self.peak, self._done = pid, rss_kib(pid), threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._done.wait(0.005):
            self.peak = max(self.peak, rss_kib(self.pid))

    def __enter__(self) -> PeakRSS:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        time.sleep(0.5)  # what the server still holds once the sockets are gone
        self._done.set()
        self._thread.join()
        self.peak = max(self.peak, rss_kib(self.pid))


def ask(web: Process, session: str, conversation: Conversation, text: str) -> str:
    """Send a normal message on a new socket; what the page got, once the answer ended."""
    answers = Message.objects.filter(conversation=conversation, author="assistant")
    earlier = set(answers.values_list("pk", flat=True))
    tab = Tab(web.host, session, conversation.pk)
    try:
        tab.send(action="send", message=text, client_id="c1")
        answer = wait_until(lambda: answers.exclude(pk__in=earlier).first(), message="the answer's row")
        return tab.until(answer_ended(answer.pk, "done"))
    finally:
        tab.close()


def test_huge_frames_on_many_sockets_are_closed_with_1009_and_cost_the_server_no_memory(stack, user):
    conversation = Conversation.objects.create(user=user)
    web, _ = stack.web(), stack.worker("w1")
    session = session_for(user)
    assert "Echo: warming up" in ask(web, session, conversation, "warming up")
    sockets = [chat_socket(web, session, conversation.pk, compression=None) for _ in range(SOCKETS)]
    before = rss_kib(web.popen.pid)

    with PeakRSS(web.popen.pid) as rss, ThreadPoolExecutor(SOCKETS) as pool:
        outcomes = list(pool.map(lambda socket: outcome_of_sending(socket, HUGE), sockets))

    # The server closes as soon as it reads the frame's header, with most of
    # the 2 MB still unread; the kernel then resets the connection, and now
    # and then the reset overtakes the close frame on its way to the client.
    assert set(outcomes) <= {MESSAGE_TOO_BIG, None}, outcomes
    assert outcomes.count(MESSAGE_TOO_BIG) >= SOCKETS // 2, outcomes
    assert rss.peak - before < ALLOWED_GROWTH_KIB, f"the web process grew by {(rss.peak - before) // 1024} MB"
    assert "Echo: still there?" in ask(web, session, conversation, "still there?")
    assert stack.server_errors() == []


def test_a_small_compressed_frame_that_inflates_past_the_limit_is_closed_with_1009(stack, user):
    conversation = Conversation.objects.create(user=user)
    web = stack.web()
    socket = chat_socket(web, session_for(user), conversation.pk, compression="deflate")

    # 2 MB of one letter deflates to a few kB: the limit must hold on the inflated size.
    assert outcome_of_sending(socket, HUGE) == MESSAGE_TOO_BIG
    assert stack.server_errors() == []
