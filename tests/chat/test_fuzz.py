"""Fuzzing the chat socket of a real running server (uvicorn, Channels, Redis,
a Celery worker): whatever one person throws at it, the consumer answers or
closes cleanly, the server keeps serving, and another person's answer
streaming at the same time arrives whole."""

from __future__ import annotations

import html
import json
import re
import threading
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from urllib.parse import quote, unquote

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from museapp.chat.models import Conversation, Message
from tests.fakellm import Reply

pytestmark = [pytest.mark.processes, pytest.mark.django_db(transaction=True)]

CLEAN_CLOSE_CODES = {4401, 4404, 1009}  # 1009: a frame over MUSE_WS_MAX_BYTES, refused unread
CRASH_SIGNS = ("Traceback", "Internal Server Error", "Exception inside application")
VICTIM_PROMPT = "a slow answer for the victim"
VICTIM_TOKENS = 60
VICTIM_ANSWER = "".join(f"tok{i} " for i in range(VICTIM_TOKENS))
NOT_FOUND = "That message is not in this conversation."


# --- the two people ---------------------------------------------------------


class Browser:
    """One person's logged-in session on the live server."""

    def __init__(self, base_url: str, user):
        client = Client()
        client.force_login(user)
        self.cookie = f"sessionid={client.cookies['sessionid'].value}"
        self.base_url = base_url

    def socket(self, conversation_path: str, *, anonymous: bool = False):
        headers = {"Origin": self.base_url}
        if not anonymous:
            headers["Cookie"] = self.cookie
        url = self.base_url.replace("http://", "ws://", 1) + f"/ws/chat/{conversation_path}/"
        return connect(url, additional_headers=headers, open_timeout=10, max_size=None)

    def get(self, path: str) -> int:
        request = urllib.request.Request(self.base_url + path, headers={"Cookie": self.cookie})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code


@dataclass
class Answer:
    message_id: int
    status: str
    streamed: str  # every token frame's text, in the order it arrived


class Victim(threading.Thread):
    """The other person: asks for slow answers, one after another, until told
    to stop asking, and keeps what their page received of each."""

    def __init__(self, browser: Browser, conversation: Conversation):
        super().__init__(name="victim", daemon=True)
        self.browser = browser
        self.conversation = conversation
        self.message_ids: list[int] = []  # theirs: for the attacker to aim at
        self.answers: list[Answer] = []
        self.streaming = threading.Event()
        self.enough = threading.Event()
        self.failure: BaseException | None = None

    def run(self) -> None:
        try:
            with self.browser.socket(str(self.conversation.pk)) as socket:
                turn = 0
                while not self.enough.is_set():
                    self.answers.append(self._ask(socket, turn))
                    turn += 1
        except BaseException as error:  # noqa: BLE001 - reported by the test
            self.failure = error

    def _ask(self, socket, turn: int) -> Answer:
        socket.send(json.dumps({"action": "send", "message": f"{VICTIM_PROMPT} #{turn}", "client_id": f"v{turn}"}))
        received = ""
        answer_id = None
        deadline = time.monotonic() + 30
        while True:
            received += socket.recv(timeout=max(deadline - time.monotonic(), 0.01))
            if answer_id is None:
                ids = re.findall(r'<article id="msg-(\d+)" class="message (?:user|assistant)"', received)
                if len(ids) < 2:
                    continue
                self.message_ids.extend(int(i) for i in ids[:2])
                answer_id = int(ids[1])
                self.streaming.set()
            final = re.search(rf'<article id="msg-{answer_id}"[^>]*data-status="(?!streaming)(\w+)"', received)
            if final:
                pieces = re.findall(rf'<span id="msg-{answer_id}-tail" hx-swap-oob="beforeend">(.*?)</span>', received, re.S)
                return Answer(answer_id, final.group(1), html.unescape("".join(pieces)))


class ClosedUncleanly(AssertionError):
    pass


def probe(socket) -> str:
    """Send a frame the server must refuse with an error frame (an empty
    message, with a client id seen nowhere else) and wait for that refusal;
    returns everything received until then."""
    client_id = f"probe-{uuid.uuid4().hex}"
    socket.send(json.dumps({"message": "", "client_id": client_id}))
    received = ""
    deadline = time.monotonic() + 15
    while f'id="pending-{client_id}"' not in received:
        received += socket.recv(timeout=max(deadline - time.monotonic(), 0.01))
    return received


class Attacker:
    """The fuzzing person, on one socket to their own conversation (opened
    again whenever the server closed it)."""

    def __init__(self, browser: Browser, conversation: Conversation):
        self.browser = browser
        self.conversation = conversation
        self.socket = None
        self.message_ids: list[int] = []  # theirs, as their page learnt them

    def throw(self, frame: str | bytes) -> str:
        """Send a frame, then a probe; returns everything received up to the
        probe's answer ("" when the server closed the socket cleanly)."""
        if self.socket is None:
            self.socket = self.browser.socket(str(self.conversation.pk))
        try:
            self.socket.send(frame)
            received = probe(self.socket)
            self.message_ids.extend(int(i) for i in re.findall(r'<article id="msg-(\d+)"', received))
            return received
        except ConnectionClosed as closed:
            self.socket = None
            code = closed.rcvd.code if closed.rcvd else None
            if code not in CLEAN_CLOSE_CODES:
                raise ClosedUncleanly(f"the server closed the socket with {code}") from None
            return ""

    def knock(self, path: str, anonymous: bool) -> None:
        """Open another socket on some path: only the attacker's own
        conversation is served, anything else is closed with 4404 (4401
        without the session)."""
        named = unquote(path)
        own = named.isascii() and named.isdigit() and int(named) == self.conversation.pk
        with self.browser.socket(path, anonymous=anonymous) as socket:
            if own and not anonymous:
                assert 'id="composer-error"' in probe(socket)
                return
            with pytest.raises(ConnectionClosed) as closed:
                while True:
                    socket.recv(timeout=10)
        assert closed.value.rcvd is not None, "closed without a close frame"
        assert closed.value.rcvd.code in ({4401, 4404} if anonymous else {4404})

    def close(self) -> None:
        if self.socket is not None:
            self.socket.close()


# --- what the attacker throws -----------------------------------------------


@dataclass
class Throw:
    frame: str | bytes
    expect: str | None = None  # a phrase the server must answer with

    def __repr__(self) -> str:
        shown = self.frame if len(self.frame) <= 200 else self.frame[:200]
        return f"Throw({shown!r}{'…' if len(self.frame) > 200 else ''} [{len(self.frame)}], expect={self.expect!r})"


@dataclass
class Knock:
    """A fresh socket to some conversation path, with or without the session."""

    path: str
    anonymous: bool = False


def frames_to_throw(victim: Victim, attacker: Attacker) -> st.SearchStrategy:
    def one_of_the_ids(person) -> st.SearchStrategy:
        def pick(i: int) -> int:
            ids = person.message_ids
            return ids[-1 - i % len(ids)] if ids else 0  # 0: the latest
        return st.integers(0, 10**6).map(pick)

    victim_ids = one_of_the_ids(victim)
    own_ids = one_of_the_ids(attacker)
    odd_ids = st.one_of(
        victim_ids,
        victim_ids.map(str),
        st.just(victim.conversation.pk),
        st.integers(),
        st.integers(max_value=0),
        st.integers(min_value=2**63 - 5, max_value=10**40),
        st.floats(allow_nan=False, allow_infinity=False),
        st.sampled_from(["1 OR 1=1", "1; DROP TABLE chat_message", "0x10", "1e3", "-1", " 1", "1_0", "١٢", ""]),
        st.none(),
        st.booleans(),
    )
    json_leaves = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=50))
    json_values = st.recursive(
        json_leaves,
        lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5),
        max_leaves=25,
    )
    wrong_typed = st.one_of(
        json_values,
        odd_ids,
        st.sampled_from(["", "   ", "\n\t", "on", "true", "synthesize", "vote", "select", "1 OR 1=1"]),
        st.text(max_size=30),
    )
    actions = st.one_of(
        st.sampled_from(["send", "stop", "retry"]),
        st.sampled_from(["SEND", "delete", "__init__", "_stop", "receive", ""]),
        json_values,
    )
    known_keys = st.fixed_dictionaries(
        {},
        optional={
            "action": actions,
            "message": wrong_typed,
            "message_id": odd_ids,
            "client_id": wrong_typed,
            "contemplate": wrong_typed,
            "strategy": wrong_typed,
            "conversation_id": odd_ids,
            "HEADERS": json_values,
        },
    )
    foreign_message = st.fixed_dictionaries(
        {"action": st.sampled_from(["stop", "retry"]), "message_id": st.one_of(victim_ids, victim_ids.map(str))},
        optional={"conversation_id": st.just(victim.conversation.pk), "message": wrong_typed},
    )
    own_message = st.fixed_dictionaries(
        {"action": st.sampled_from(["stop", "retry"]), "message_id": st.one_of(own_ids, own_ids.map(str))}
    )
    # A real message now and then: the fake model echoes it at once.
    real_text = st.one_of(
        st.text(min_size=1, max_size=200),
        st.text(st.characters(categories=["Cc", "Cf", "Co", "Zl", "Zp"]), min_size=1, max_size=20).map("x{}".format),
        st.sampled_from(["<script>alert(1)</script>", "{{ request }}", "%s%n", "\u202eevil", "') OR 1=1 --"]),
    ).filter(str.strip)
    real_message = st.fixed_dictionaries(
        {"message": real_text},
        optional={
            "action": st.just("send"),
            "client_id": st.text(max_size=70),
            "contemplate": st.sampled_from(["on", "off", True, 1, None]),
            "strategy": st.sampled_from(["synthesize", "vote", "select", "", "chaos"]),
        },
    )
    huge_text = st.builds(
        lambda unit, length: (unit * (length // len(unit) + 1))[:length],
        st.text(min_size=1, max_size=8),
        st.integers(50_000, 220_000),
    )
    deeply_nested = st.builds(
        lambda opener, depth: opener * depth,
        st.sampled_from(["[", '{"a":', '{"message":[']),
        st.integers(1, 60_000),
    ).map(lambda text: text + "0" + "".join("]" if c == "[" else "}" for c in reversed(text) if c in "[{"))

    def dumps(value) -> str:
        return json.dumps(value, allow_nan=True)

    throws = st.one_of(
        st.text(max_size=300).map(Throw),
        huge_text.map(Throw),
        st.binary(max_size=2000).map(Throw),
        json_values.map(dumps).map(Throw),
        deeply_nested.map(Throw),
        known_keys.map(dumps).map(Throw),
        foreign_message.map(lambda payload: Throw(dumps(payload), expect=NOT_FOUND)),
        own_message.map(dumps).map(Throw),
        real_message.map(dumps).map(Throw),
    )
    paths = st.one_of(
        st.just(victim.conversation.pk),
        odd_ids,
        st.text(st.characters(exclude_characters="/"), max_size=40),
    ).map(lambda path: quote(str(path), safe=""))
    knocks = st.builds(Knock, paths, st.booleans())
    return st.one_of(throws, throws, throws, knocks)


def written_since(log, start: int) -> str:
    with open(log, "rb") as file:
        file.seek(start)
        return file.read().decode(errors="replace")


# --- the test ---------------------------------------------------------------


def test_random_and_malformed_frames_never_crash_the_server_nor_disturb_another_persons_stream(
    live_server_url, live_server_log, celery_worker_log, user, other_user, llm
):
    llm.script(VICTIM_PROMPT, Reply(tokens=VICTIM_TOKENS, token_delay=0.05))
    logs = {log: log.stat().st_size for log in (live_server_log, celery_worker_log)}
    victim = Victim(Browser(live_server_url, other_user), Conversation.objects.create(user=other_user))
    attacker = Attacker(Browser(live_server_url, user), Conversation.objects.create(user=user))
    victim.start()
    assert victim.streaming.wait(15), f"the victim's answer never started: {victim.failure!r}"

    @settings(
        max_examples=200,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        print_blob=True,
    )
    @given(attack=frames_to_throw(victim, attacker))
    def the_server_answers_or_closes_cleanly(attack):
        if isinstance(attack, Knock):
            attacker.knock(attack.path, attack.anonymous)
            return
        reply = attacker.throw(attack.frame)
        if attack.expect is not None:
            assert attack.expect in reply

    try:
        the_server_answers_or_closes_cleanly()
        assert 'id="composer-error"' in attacker.throw("{not json"), "the attacker's socket still answers"
    finally:
        attacker.close()
        victim.enough.set()
        victim.join(40)

    assert not victim.is_alive(), "the victim's last answer never ended"
    assert victim.failure is None, f"the victim's page failed: {victim.failure!r}"
    assert victim.answers, "the victim got answers"
    for answer in victim.answers:
        assert answer.status == "done", answer
        assert answer.streamed == VICTIM_ANSWER, answer
        assert Message.objects.get(pk=answer.message_id).content.strip() == VICTIM_ANSWER.strip()
    assert not Message.objects.filter(conversation=victim.conversation).exclude(status="done").exclude(
        author="user"
    ).exists()

    assert attacker.browser.get(f"/c/{attacker.conversation.pk}/") == 200, "the server still serves pages"
    assert attacker.browser.get(f"/c/{victim.conversation.pk}/") == 404
    for log, start in logs.items():
        written = written_since(log, start)
        for sign in CRASH_SIGNS:
            assert sign not in written, f"{log.name}:\n{written[-5000:]}"
