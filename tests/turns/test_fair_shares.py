"""Nobody can starve anybody else: one person's answers in progress are
capped (MUSE_MAX_RUNNING_ANSWERS), so a flood from many conversations leaves
the workers' threads to others. Real processes: a worker with as many
threads as the flood has messages."""

import re
import statistics
import threading
import time
from contextlib import contextmanager

import pytest
from websockets.exceptions import ConnectionClosed

from museapp.chat.models import Conversation, Message
from museapp.chat.services import PAGE_MESSAGES
from museapp.turns.services import RUNNING_CAP_REASON
from museapp.web.consumers import TOO_MANY_TABS
from tests.conftest import wait_until
from tests.fakellm import Reply
from tests.live import Stack, Tab, session_for
from tests.sockets import answer_ended

pytestmark = [pytest.mark.processes, pytest.mark.django_db(transaction=True)]

CAP = 3
FLOOD = 8
REFUSED = RUNNING_CAP_REASON.format(cap=CAP)[:40]


@pytest.fixture
def stack(tmp_path, llm):
    stack = Stack(tmp_path, MUSE_MAX_RUNNING_ANSWERS=str(CAP), MUSE_RATE_MESSAGES="off")
    yield stack
    stack.stop()


ANSWER = re.compile(r'<article id="msg-(\d+)" class="message assistant"[^>]*data-status="streaming"')


def time_to_first_token(tab: Tab, text: str) -> float:
    """Send -> this answer's first token frame, as the page sees it."""
    start = len(tab.text)
    sent_at = time.monotonic()
    tab.send(action="send", message=text, client_id=f"c{time.monotonic_ns()}")
    answer_id = ANSWER.search(tab.until(lambda t: ANSWER.search(t[start:]) is not None)[start:])[1]
    tab.until(lambda t: f'<span id="msg-{answer_id}-tail" hx-swap-oob="beforeend">' in t[start:])
    first_token = time.monotonic() - sent_at
    tab.until(answer_ended(int(answer_id)))
    return first_token


def test_a_flood_from_many_conversations_is_capped_and_another_persons_first_token_stays_quick(
        stack, llm, user, other_user):
    llm.script("flood", Reply(tokens=300, token_delay=0.05))  # 15 s each
    llm.script("bystander", Reply(text="Quick and calm.", first_token_delay=0.2))
    # As many threads as flood messages: without the cap the flood alone would fill them.
    web, _ = stack.web(), stack.worker("w1", concurrency=FLOOD)
    bystander_chat = Conversation.objects.create(user=other_user)
    bystander = Tab(web.host, session_for(other_user), bystander_chat.pk)
    alone = [time_to_first_token(bystander, f"bystander {i}") for i in range(5)]
    unloaded = statistics.median(alone)

    session = session_for(user)
    flood_chats = [Conversation.objects.create(user=user) for _ in range(FLOOD)]
    flooders = [Tab(web.host, session, chat.pk) for chat in flood_chats]
    for number, tab in enumerate(flooders):
        tab.send(action="send", message=f"flood {number}", client_id=f"f{number}")
    refused = [tab for tab in flooders if REFUSED in tab.until(lambda t: REFUSED in t or "tok0" in t, timeout=20)]
    flooded = [time_to_first_token(bystander, f"bystander again {i}") for i in range(5)]
    loaded = statistics.median(flooded)

    assert len(refused) == len(flooders) - CAP
    for tab in refused:
        assert 'name="message"' in tab.text and "flood " in tab.text, "the typed text is given back"
    assert Message.objects.filter(conversation__in=flood_chats, author="assistant").count() == CAP
    assert loaded <= 2 * unloaded, f"first token {flooded} s under the flood vs {alone} s alone"


def test_a_finished_or_stopped_answer_gives_its_slot_back(stack, llm, user):
    llm.script("long", Reply(tokens=300, token_delay=0.05))
    web, _ = stack.web(), stack.worker("w1", concurrency=8)
    session = session_for(user)
    chats = [Conversation.objects.create(user=user) for _ in range(CAP + 1)]
    tabs = [Tab(web.host, session, chat.pk) for chat in chats]
    for number, tab in enumerate(tabs[:CAP]):
        tab.send(action="send", message=f"long {number}", client_id=f"l{number}")
        tab.contains("tok0")
    tabs[CAP].send(action="send", message="one too many", client_id="x")
    tabs[CAP].contains(REFUSED)

    first = Message.objects.get(conversation=chats[0], author="assistant")
    tabs[0].send(action="stop", message_id=first.pk)
    tabs[0].until(answer_ended(first.pk, "stopped"))
    tabs[CAP].send(action="send", message="now there is room", client_id="y")

    answer = wait_until(lambda: Message.objects.filter(conversation=chats[CAP], author="assistant").first(),
                        message="the answer that found room")
    tabs[CAP].until(answer_ended(answer.pk))


def test_two_hundred_sockets_from_one_account_are_capped_and_another_persons_first_token_stays_quick(
        stack, llm, user, other_user):
    llm.script("bystander", Reply(text="Quick and calm.", first_token_delay=0.2))
    llm.script("hoarder", Reply(text="Fine."))
    web, _ = stack.web(), stack.worker("w1", concurrency=8)
    bystander_chat = Conversation.objects.create(user=other_user)
    bystander = Tab(web.host, session_for(other_user), bystander_chat.pk)
    alone = [time_to_first_token(bystander, f"bystander {i}") for i in range(5)]

    hoarded = Conversation.objects.create(user=user)
    Message.objects.create(conversation=hoarded, author="assistant", content="Something to render.")
    session = session_for(user)
    refused, kept = 0, []
    for _ in range(200):
        tab = Tab(web.host, session, hoarded.pk)
        try:
            tab.until(lambda t: "Something to render." in t, timeout=10)
            kept.append(tab)
        except ConnectionClosed as closed:
            assert (closed.rcvd.code, closed.rcvd.reason) == (4429, TOO_MANY_TABS)
            refused += 1
    kept[0].send(action="send", message="hoarder says hi", client_id="h")  # every kept tab gets its frames
    flooded = [time_to_first_token(bystander, f"bystander again {i}") for i in range(5)]

    assert (len(kept), refused) == (10, 190)
    assert statistics.median(flooded) <= 2 * statistics.median(alone), f"{flooded} s vs {alone} s alone"


def long_branch_with_two_versions(user) -> tuple[Conversation, list[int]]:
    """A whole page of turns, the last question answered twice: showing a
    version renders the page."""
    conversation = Conversation.objects.create(user=user)
    for number in range(PAGE_MESSAGES // 2 - 1):
        Message.objects.create(conversation=conversation, author="user", content=f"Question **{number}**?")
        Message.objects.create(conversation=conversation, author="assistant", status="done",
                               content=f"Answer {number}, with `code` and a [link](https://example.com).")
    question = Message.objects.create(conversation=conversation, author="user", content="Name a tea")
    versions = [Message.objects.create(conversation=conversation, author="assistant", status="done",
                                       content=tea, parent=question) for tea in ("Sencha.", "Gyokuro.")]
    Conversation.objects.filter(pk=conversation.pk).update(current_leaf=versions[-1])
    return conversation, [version.pk for version in versions]


def keep_flipping(tab: Tab, versions: list[int], stop: threading.Event) -> None:
    """Show one version, then the other, as soon as the last flip was answered."""
    for number in range(100_000):
        if stop.is_set():
            return
        tab.send(action="show_version", message_id=versions[number % 2])
        try:
            tab.socket.recv(timeout=2)
        except TimeoutError:
            continue


@contextmanager
def flipping(tabs: list[Tab], versions: list[int]):
    stop = threading.Event()
    threads = [threading.Thread(target=keep_flipping, args=(tab, versions, stop), daemon=True) for tab in tabs]
    for thread in threads:
        thread.start()
    try:
        yield
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=10)


def test_a_person_flipping_versions_in_ten_tabs_does_not_slow_another_persons_first_token(
        stack, llm, user, other_user):
    llm.script("bystander", Reply(text="Quick and calm.", first_token_delay=0.2))
    web, _ = stack.web(), stack.worker("w1", concurrency=8)
    bystander_chat = Conversation.objects.create(user=other_user)
    bystander = Tab(web.host, session_for(other_user), bystander_chat.pk)
    alone = [time_to_first_token(bystander, f"bystander {i}") for i in range(5)]

    flipped, versions = long_branch_with_two_versions(user)
    session = session_for(user)
    tabs = [Tab(web.host, session, flipped.pk) for _ in range(10)]
    with flipping(tabs, versions):
        flooded = [time_to_first_token(bystander, f"bystander again {i}") for i in range(5)]

    assert statistics.median(flooded) <= 2 * statistics.median(alone), f"{flooded} s vs {alone} s alone"
