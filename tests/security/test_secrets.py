"""Provider API keys never go through Redis.

Redis is shared by every process (web, workers, Celery's broker and results,
the channel layer) and is often run with less care than a secrets store, so a
key must reach the model only from the process that calls it. These tests
watch every command Redis executes (MONITOR sees all clients) while a real
answer runs end to end, and look for the run's API key in every argument: as
is, in hex, in base64 at any alignment (standard and URL-safe), and inside any
base64-looking token once decoded (Celery's message bodies are base64 JSON).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import os
import re
import threading
import time
import uuid
from dataclasses import dataclass, field

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings
from redis import Redis

from museapp.chat.models import Message
from tests.fakellm import Reply
from tests.sockets import open_chat, send



def end_to_end(test):
    """A real answer: the socket, a real Celery worker process, real Redis."""
    for mark in (pytest.mark.django_db(transaction=True), pytest.mark.asyncio,
                 pytest.mark.usefixtures("celery_worker_process")):
        test = mark(test)
    return test


ROLES = ["Direct solver", "Step-by-step reasoner", "Skeptic", "Explorer"]


def api_key() -> str:
    """The run's key (tests/environment.py), distinctive enough that finding
    it cannot be a coincidence."""
    key = os.environ.get("MUSE_API_KEY") or ""
    assert len(key) >= 16 and key != "test-key", f"tests/environment.py must set a distinctive MUSE_API_KEY, not {key!r}"
    return key


# --- watching Redis ----------------------------------------------------------

MONITOR_LINE = re.compile(rb"^\+?(?P<time>\S+) \[(?P<db>\d+) (?P<client>[^\]]*)\] (?P<args>.*)$", re.S)
ESCAPES = {"n": b"\n", "r": b"\r", "t": b"\t", "a": b"\a", "b": b"\b", "\\": b"\\", '"': b'"'}


def monitor_args(quoted: str) -> list[bytes]:
    """Undo Redis's quoting of a MONITOR line's arguments ("\\xHH", "\\n",
    "\\"" ...): the exact bytes each argument carried."""
    args: list[bytes] = []
    i, n = 0, len(quoted)
    while i < n:
        if quoted[i] != '"':
            i += 1
            continue
        i += 1
        buf = bytearray()
        while i < n and quoted[i] != '"':
            char = quoted[i]
            if char == "\\" and i + 1 < n:
                nxt = quoted[i + 1]
                if nxt == "x" and re.fullmatch(r"[0-9a-fA-F]{2}", quoted[i + 2:i + 4]):
                    buf.append(int(quoted[i + 2:i + 4], 16))
                    i += 4
                    continue
                buf += ESCAPES.get(nxt, nxt.encode("latin-1"))
                i += 2
                continue
            buf += char.encode("latin-1")
            i += 1
        args.append(bytes(buf))
        i += 1
    return args


@dataclass
class Command:
    raw: bytes  # the MONITOR line as Redis sent it
    client: str
    args: list[bytes]

    @property
    def summary(self) -> str:
        name = b" ".join(self.args[:2]).decode("latin-1")
        return f"{name} (from {self.client})"


@dataclass
class RedisWatch:
    """Every command Redis executes while the watch is on, from every client.

    Started: MONITOR has been acknowledged, so nothing sent afterwards is
    missed. Stopped: a unique ECHO from another connection has come back
    through MONITOR, so every command Redis ran before it has been read."""

    url: str
    lines: list[bytes] = field(default_factory=list)
    error: BaseException | None = None

    def __enter__(self) -> "RedisWatch":
        self._end = f"muse-test-watch-end-{uuid.uuid4().hex}".encode()
        self._stopping = False
        self._client = Redis.from_url(self.url)
        self._monitor = self._client.monitor()
        self._monitor.__enter__()  # sends MONITOR and waits for its OK
        self._thread = threading.Thread(target=self._read, name="redis-monitor", daemon=True)
        self._thread.start()
        return self

    def _read(self) -> None:
        try:
            while True:
                line = self._monitor.connection.read_response()
                if line is None:
                    continue
                if isinstance(line, str):
                    line = line.encode("latin-1")
                if self._end in line:
                    return
                self.lines.append(line)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            if not self._stopping:
                self.error = exc

    def stop(self) -> None:
        if getattr(self, "_thread", None) is None:
            return
        if self._thread.is_alive():
            other = Redis.from_url(self.url)
            try:
                other.echo(self._end)
            finally:
                other.close()
            self._thread.join(15)
        finished = not self._thread.is_alive()
        self._stopping = True
        self._monitor.__exit__(None, None, None)
        self._client.close()
        self._thread.join(5)
        self._thread = None
        if not finished and self.error is None:
            self.error = AssertionError("the MONITOR reader never saw the end marker")

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def commands(self) -> list[Command]:
        assert self.error is None, f"watching Redis failed: {self.error!r}"
        commands = []
        for line in self.lines:
            match = MONITOR_LINE.match(line)
            assert match, f"unexpected MONITOR line: {line[:200]!r}"
            args = monitor_args(match["args"].decode("latin-1"))
            commands.append(Command(raw=line, client=match["client"].decode("latin-1"), args=args))
        return commands


# --- looking for the key -----------------------------------------------------


def base64_fragments(secret: bytes) -> set[bytes]:
    """What the secret always becomes inside base64, wherever it starts: for
    each of the 3 alignments, the output characters made of the secret's bits
    alone (the edge characters also carry neighbouring bytes)."""
    fragments = set()
    for prefix in range(3):
        first = -(-8 * prefix // 6)  # the first character that starts inside the secret
        last = (8 * (prefix + len(secret))) // 6  # one past the last character that ends inside it
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            encoded = encode(b"\0" * prefix + secret)
            fragments.add(encoded[first:last])
    return fragments


BASE64_TOKEN = re.compile(rb"[A-Za-z0-9+/_-]{16,}={0,2}")


def decoded_tokens(data: bytes) -> list[tuple[int, bytes]]:
    """Every base64-looking token in ``data``, decoded (standard or URL-safe),
    with where it starts."""
    decoded = []
    for token in BASE64_TOKEN.finditer(data):
        body = token.group().rstrip(b"=")
        for alphabet in (None, b"-_"):
            try:
                decoded.append((token.start(), base64.b64decode(body + b"=" * (-len(body) % 4), altchars=alphabet,
                                                                validate=True)))
            except (binascii.Error, ValueError):
                continue
    return decoded


class Finder:
    def __init__(self, secret: str):
        raw = secret.encode()
        self.needles = {"plain": [raw], "hex": [raw.hex().encode(), raw.hex().upper().encode()],
                        "base64": sorted(base64_fragments(raw))}

    def find(self, data: bytes, depth: int = 0) -> list[tuple[str, int]]:
        """Every form the secret takes in ``data`` (looking into base64 tokens
        up to three layers deep), each with where it starts in ``data``."""
        found = []
        for form, needles in self.needles.items():
            at = min((i for i in (data.find(needle) for needle in needles) if i >= 0), default=-1)
            if at >= 0:
                found.append((form if depth == 0 else f"{form} in {depth}× base64-decoded data", at))
        if depth < 3:
            for start, decoded in decoded_tokens(data):
                for form, _ in self.find(decoded, depth + 1):
                    if all(form != seen for seen, _ in found):
                        found.append((form, start))  # where the token holding it starts
        return found


def celery_tasks(commands: list[Command]) -> dict[str, str]:
    """The Celery task messages the commands carried (to the queue, or to
    kombu's unacked hash), by task id: which task each one started."""
    tasks = {}
    for command in commands:
        for arg in command.args:
            if not (arg.startswith(b"{") and b'"headers"' in arg):
                continue
            try:
                headers = json.loads(arg).get("headers") or {}
            except (ValueError, AttributeError):
                continue
            if isinstance(headers, dict) and str(headers.get("task", "")).startswith("muse."):
                tasks[str(headers.get("id"))] = headers["task"]
    return tasks


def exposures(commands: list[Command], secret: str) -> list[str]:
    """One line per command that carried the secret: which argument, in which
    forms, and an excerpt around it."""
    finder = Finder(secret)
    found = []
    for command in commands:
        hits = [(index, finder.find(arg)) for index, arg in enumerate(command.args)]
        hits = [(index, forms) for index, forms in hits if forms]
        if not hits:
            continue
        where = "; ".join(f"argument {index}: {', '.join(form for form, _ in forms)}" for index, forms in hits)
        index, forms = hits[0]
        at = forms[0][1]
        excerpt = command.args[index][max(0, at - 100):at + 200].decode("latin-1")
        found.append(f"{command.summary} [{where}]: …{excerpt}…")
    return found


def assert_no_key_in(commands: list[Command], secret: str, at_least_tasks: int) -> None:
    """``at_least_tasks``: how many of Muse's Celery tasks (besides its ping)
    the answer must have sent, so that the watch is known to have seen them."""
    assert commands, "MONITOR captured nothing"
    tasks = sorted(name for name in celery_tasks(commands).values() if name != "muse.ping")
    assert len(tasks) >= at_least_tasks, (
        f"the watch saw {len(tasks)} Celery task messages ({tasks}), expected at least {at_least_tasks}"
    )
    found = exposures(commands, secret)
    if found:
        pytest.fail(
            f"the API key went through Redis in {len(found)} of {len(commands)} commands; the first ones:\n  "
            + "\n  ".join(line[:700] for line in found[:4]),
            pytrace=False,
        )


def assert_the_model_got_the_key(llm, question: str, secret: str, at_least: int) -> None:
    headers = [{k.lower(): v for k, v in h.items()} for h in llm.headers_matching(question)]
    assert len(headers) >= at_least, f"the model received {len(headers)} requests, expected {at_least}"
    assert all(h.get("authorization") == f"Bearer {secret}" for h in headers), (
        "every request must reach the model with the key: "
        + str([h.get("authorization", "")[:12] + "…" for h in headers])
    )


def test_the_hunt_finds_the_key_in_every_form_it_looks_for():
    """The checks below pass only if nothing is found, so the finder itself
    must be shown to find: a Celery-like message with the key inside a
    base64 body, at every alignment, both alphabets, and twice encoded."""
    secret = "sk-muse-test-0123456789"
    finder = Finder(secret)
    for prefix in ("", "x", "xy", "xyz"):
        body = f'[[], {{"call": {{"api_key": "{prefix}{secret}"}}}}, {{}}]'.encode()
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            message = b'{"body": "' + encode(body) + b'", "content-encoding": "utf-8"}'
            assert {"base64", "plain in 1× base64-decoded data"} <= {form for form, _ in finder.find(message)}
            assert finder.find(encode(encode(body)))
    assert [form for form, _ in finder.find(secret.encode().hex().encode())] == ["hex"]
    assert finder.find(b'{"task": "muse.generate_reply", "body": "' + base64.b64encode(b"no secret here") + b'"}') == []
    assert monitor_args(r'"LPUSH" "q" "{\"a\": \"b\\\"c\"}\xe2\x80\xa6"') == [b"LPUSH", b"q", b'{"a": "b\\"c"}\xe2\x80\xa6']


# --- driving an answer -------------------------------------------------------


@sync_to_async
def assistant_message_id(conversation) -> int | None:
    return (
        Message.objects.filter(conversation=conversation, author="assistant")
        .order_by("id").values_list("pk", flat=True).last()
    )


@sync_to_async
def status_of(message_id: int) -> tuple[str, str]:
    return Message.objects.values_list("status", "error").get(pk=message_id)


async def answer_finished(conversation, timeout: float = 60.0) -> int:
    """The answer's id, once its row is saved as done."""
    deadline = time.monotonic() + timeout
    message_id = None
    status = error = None
    while time.monotonic() < deadline:
        if message_id is None:
            message_id = await assistant_message_id(conversation)
        if message_id is not None:
            status, error = await status_of(message_id)
            if status == Message.Status.DONE:
                return message_id
            assert status == Message.Status.STREAMING, f"the answer ended {status}: {error}"
        await asyncio.sleep(0.05)
    raise AssertionError(f"the answer never finished (message {message_id}: {status} {error})")


@end_to_end
async def test_no_api_key_goes_through_redis_during_a_quick_answer(user, conversation, llm):
    secret = api_key()
    question = "Where do keys live?"
    llm.script(question, Reply(text="In the worker's environment, never in Redis."))

    with RedisWatch(settings.REDIS_URL) as watch:
        socket = await open_chat(user, conversation.pk)
        await send(socket, action="send", message=question, client_id="secret-1")
        await answer_finished(conversation)
    await socket.disconnect()

    assert_the_model_got_the_key(llm, question, secret, at_least=1)
    assert_no_key_in(watch.commands(), secret, at_least_tasks=1)


@end_to_end
async def test_no_api_key_goes_through_redis_during_a_contemplation(user, conversation, llm):
    secret = api_key()
    question = "Where do keys live, deeply?"
    for role in ROLES:
        # No short answers: the judge is called (unanimous drafts would skip it).
        llm.script(question, Reply(text=f"{role}: in the environment."), system=f"You are the {role}")
    llm.script(question, Reply(text="Relied on: A, B\n\nIn the environment."), system="judge")

    with RedisWatch(settings.REDIS_URL) as watch:
        socket = await open_chat(user, conversation.pk)
        await send(socket, action="send", message=question, contemplate=True, strategy="synthesize")
        await answer_finished(conversation)
    await socket.disconnect()

    assert_the_model_got_the_key(llm, question, secret, at_least=len(ROLES) + 1)
    assert_no_key_in(watch.commands(), secret, at_least_tasks=len(ROLES))  # each agent is its own task
