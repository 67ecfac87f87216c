#!/usr/bin/env python
"""Time to first token: Muse's own overhead over the model, one person at a
time and with many people chatting at once, plus the CPU each streamed chunk
costs. A script that prints figures, not a test.

Everything runs as in production, each in its own process: the fake model
(``tests.fakellm``) with a fixed first-token delay, a Celery worker and the
uvicorn ASGI server (the commands ``manage.py serve`` uses), against Redis and
the database named by REDIS_URL / DATABASE_URL (embedded Redis and a fresh
SQLite file when unset). The clients are real WebSockets, as a browser's.

    .venv/bin/python bench/ttft.py            # the full run (about 2 minutes)
    .venv/bin/python bench/ttft.py --quick    # smaller counts (half a minute)
    .venv/bin/python bench/ttft.py --k 50,200 --workers 2 --concurrency 256   # what-ifs

See bench/README.md for what each figure means.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import websockets

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fakellm import free_port  # noqa: E402

# The targets, in ms, for the default (full) levels.
TARGET_FIRST_MS = 100
TARGET_SEQUENTIAL = {"p50": 25, "p95": 40}
TARGET_CONCURRENT_P95 = {50: 750, 200: 3000}

ANSWER_TIMEOUT = 60.0  # no final status by then: the message is lost
MODEL = "openai/fake-model"


# --- helpers ---------------------------------------------------------------


def percentile(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile (p in 0..100); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def fmt(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def wait_for_port(port: int, process: subprocess.Popen, name: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the {name} process exited with code {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"the {name} process did not listen on port {port} in {timeout:g} s")


class Processes:
    """The children this run started; each in its own process group, so
    stopping a group stops everything it spawned."""

    def __init__(self, log_dir: Path):
        self.log_dir = log_dir
        self.children: dict[str, subprocess.Popen] = {}
        self.redis = None

    def spawn(self, name: str, command: list[str]) -> subprocess.Popen:
        with open(self.log_dir / f"{name}.log", "wb") as log:
            process = subprocess.Popen(
                command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        self.children[name] = process
        return process

    def check(self) -> None:
        for name, process in self.children.items():
            if process.poll() is not None:
                raise RuntimeError(f"the {name} process exited with code {process.returncode}")

    def log_tail(self, name: str, chars: int = 2500) -> str:
        path = self.log_dir / f"{name}.log"
        return path.read_text(errors="replace")[-chars:] if path.exists() else ""

    def stop_all(self) -> None:
        # In reverse order of start: the web first (no new messages), then the
        # workers, then the model, then Redis.
        running = list(reversed(self.children.values()))
        for process in running:
            if process.poll() is None:
                _signal_group(process, signal.SIGTERM)
        for process in running:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                _signal_group(process, signal.SIGKILL)
                process.wait()
            # Anything the child left behind in its group goes too.
            _signal_group(process, signal.SIGKILL)
        if self.redis is not None:
            self.redis.stop()
            self.redis = None


def _signal_group(process: subprocess.Popen, signum: int) -> None:
    try:
        os.killpg(process.pid, signum)
    except (ProcessLookupError, PermissionError):
        pass


class CpuMeter:
    """CPU seconds (user + system) of the app's processes (with their
    children), of this client process alone, and of the whole machine (other
    people's work included: the machine is shared)."""

    def __init__(self, pids: dict[str, list[int]]):
        self.processes = {name: [psutil.Process(pid) for pid in group] for name, group in pids.items()}

    def sample(self) -> dict[str, float]:
        totals = {}
        for name, group in self.processes.items():
            total = 0.0
            for process in group:
                family = [process] if process.pid == os.getpid() else [process, *process.children(recursive=True)]
                for proc in family:
                    try:
                        times = proc.cpu_times()
                        total += times.user + times.system
                    except psutil.NoSuchProcess:
                        pass
            totals[name] = total
        machine = psutil.cpu_times()
        totals["machine"] = machine.user + machine.nice + machine.system + machine.irq + machine.softirq
        return totals


# --- start-up --------------------------------------------------------------


def configure_environment(run_dir: Path, fake_port: int) -> None:
    """The environment of this process and every child: set before Django."""
    run_id = run_dir.name
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "museapp.settings",
            "MUSE_DATA_DIR": str(run_dir),
            "LITELLM_LOCAL_MODEL_COST_MAP": "True",
            "MUSE_MODEL": MODEL,
            "MUSE_API_BASE": f"http://127.0.0.1:{fake_port}/v1",
            "MUSE_API_KEY": "x",
            "MUSE_LLM_RETRIES": "0",
            "MUSE_QUEUE": f"muse-{run_id}",
            "MUSE_REDIS_PREFIX": f"muse-{run_id}",
            "MUSE_WARM_UP": "1",  # as production
            "PYTHONUNBUFFERED": "1",
        }
    )


def wait_for_workers(processes: Processes, count: int, timeout: float = 90.0) -> None:
    """As `manage.py serve` does: until every worker is consuming."""
    from museapp.ops.workers import wait_until_consuming

    wait_until_consuming(processes.check, count=count, timeout=timeout)


@dataclass
class Person:
    user_id: int
    conversation_id: int
    session_key: str


def create_people(count: int, prefix: str) -> list[Person]:
    """Users with one conversation each, logged in by a session row: no
    password hashing (200 PBKDF2 hashes would take minutes)."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
    from django.contrib.auth.hashers import make_password
    from django.contrib.sessions.backends.db import SessionStore

    from museapp.chat.models import Conversation

    User = get_user_model()
    unusable = make_password(None)
    users = User.objects.bulk_create(
        [User(username=f"{prefix}-{i}", password=unusable) for i in range(count)]
    )
    users = list(User.objects.filter(username__startswith=f"{prefix}-").order_by("id"))
    conversations = Conversation.objects.bulk_create([Conversation(user=u) for u in users])
    people = []
    for user, conversation in zip(users, conversations):
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        people.append(Person(user.pk, conversation.pk, session.session_key))
    return people


def delete_people(prefix: str, people: list[Person]) -> None:
    from django.contrib.auth import get_user_model
    from django.contrib.sessions.models import Session

    Session.objects.filter(session_key__in=[p.session_key for p in people]).delete()
    get_user_model().objects.filter(username__startswith=f"{prefix}-").delete()


# --- the clients -------------------------------------------------------------


@dataclass
class Answer:
    status: str = "lost"  # done, error, stopped, rejected, lost, failed
    overhead_ms: float | None = None  # send -> first token frame, minus the model's delay
    done_ms: float | None = None  # send -> final status frame
    message_id: int | None = None  # the assistant message
    turn_ms: float | None = None  # send -> the turn frame (the rows are saved and rendered)
    model_ms: float | None = None  # the worker's own TTFT (model call -> first delta) minus the delay
    frames: int = 0  # every frame received for this message
    token_frames: list[int] = field(default_factory=list)  # tokens carried by each token frame
    detail: str = ""

    @property
    def tokens(self) -> int:
        return sum(self.token_frames)

    @property
    def parts(self) -> tuple[float, float, float] | None:
        """The overhead in three parts: the web process's turn (send -> the
        turn frame back: socket, DB transaction, render); the model call in
        the worker (its own TTFT minus the model's delay: litellm); the rest
        (enqueue, Celery, worker pick-up, frame publish, channel layer, web
        consumer, client)."""
        if None in (self.overhead_ms, self.turn_ms, self.model_ms):
            return None
        return self.turn_ms, self.model_ms, self.overhead_ms - self.turn_ms - self.model_ms


_ASSISTANT_ID = re.compile(r'data-message-id="(\d+)" data-author="assistant"')
_STATUS = re.compile(r'data-status="(\w+)"')


class ChatSocket:
    """One person's browser tab on one conversation."""

    def __init__(self, port: int, person: Person, first_token_delay: float):
        self.port = port
        self.person = person
        self.delay_ms = first_token_delay * 1000
        self.ws = None

    async def connect(self) -> None:
        self.ws = await websockets.connect(
            f"ws://127.0.0.1:{self.port}/ws/chat/{self.person.conversation_id}/",
            origin=f"http://127.0.0.1:{self.port}",
            additional_headers={"Cookie": f"sessionid={self.person.session_key}"},
            max_size=None,
            open_timeout=30,
        )

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()

    async def ask(self, text: str, timeout: float = ANSWER_TIMEOUT) -> Answer:
        """Send one message; follow its frames until the answer's final status."""
        answer = Answer()
        client_id = uuid.uuid4().hex[:16]
        sent = time.perf_counter()
        await self.ws.send(json.dumps({"action": "send", "message": text, "client_id": client_id}))
        try:
            # One timeout for the whole answer: cheaper than one per frame.
            async with asyncio.timeout(timeout):
                await self._follow(answer, f'id="pending-{client_id}"', sent)
        except TimeoutError:
            pass  # still "lost"
        except websockets.ConnectionClosed as closed:
            answer.status, answer.detail = "failed", f"socket closed ({closed.rcvd})"
        return answer

    async def _follow(self, answer: Answer, pending: str, sent: float) -> None:
        body = article = None
        while True:
            frame = await self.ws.recv()
            now = time.perf_counter()
            answer.frames += 1
            if body is None:
                if pending not in frame:
                    continue  # a catch-up frame from before this message
                found = _ASSISTANT_ID.search(frame)
                if found is None:
                    answer.status = "rejected"
                    answer.detail = re.sub(r"<[^>]+>", " ", frame).split("  ")[-1].strip()[:200]
                    return
                answer.message_id = int(found.group(1))
                answer.turn_ms = (now - sent) * 1000
                body = f'id="msg-{found.group(1)}-body" hx-swap-oob="beforeend">'
                article = f'id="msg-{found.group(1)}"'
            at = frame.find(body)
            if at >= 0:
                if answer.overhead_ms is None:
                    answer.overhead_ms = (now - sent) * 1000 - self.delay_ms
                answer.token_frames.append(frame.count("tok", at))
            if article in frame:
                status = _STATUS.search(frame, frame.find(article))
                if status and status.group(1) != "streaming":
                    answer.status = status.group(1)
                    answer.done_ms = (now - sent) * 1000
                    if answer.status == "error":
                        error = re.search(r'class="error"[^>]*>([^<]*)', frame)
                        answer.detail = error.group(1).strip() if error else ""
                    return


async def connect_all(port: int, people: list[Person], delay: float) -> list[ChatSocket]:
    sockets = [ChatSocket(port, person, delay) for person in people]
    gate = asyncio.Semaphore(50)

    async def connect(sock: ChatSocket) -> None:
        async with gate:
            await sock.connect()

    await asyncio.gather(*(connect(s) for s in sockets))
    return sockets


async def close_all(sockets: list[ChatSocket]) -> None:
    await asyncio.gather(*(s.close() for s in sockets), return_exceptions=True)


# --- phases ------------------------------------------------------------------


@dataclass
class Phase:
    name: str
    answers: list[Answer]
    cpu: dict[str, float] = field(default_factory=dict)  # CPU seconds spent per process
    wall: float = 0.0
    people: int = 1

    @property
    def overheads(self) -> list[float]:
        return [a.overhead_ms for a in self.answers if a.overhead_ms is not None]

    def count(self, *statuses: str) -> int:
        return sum(1 for a in self.answers if a.status in statuses)

    @property
    def answered(self) -> list[Answer]:
        return [a for a in self.answers if a.overhead_ms is not None]

    @property
    def token_frames(self) -> list[int]:
        return [n for a in self.answers for n in a.token_frames]

    def split(self) -> tuple[float | None, float | None, float | None]:
        """p50 of each part of the overhead: see `Answer.parts`."""
        parts = [a.parts for a in self.answers if a.parts]
        return tuple(percentile([p[i] for p in parts], 50) for i in range(3))


def read_model_times(answers: list[Answer], delay: float) -> None:
    """The worker saves each answer's TTFT as it saw it (from the start of
    the model call to the first delta): what litellm and the model took."""
    from museapp.chat.models import Message

    ids = [a.message_id for a in answers if a.message_id]
    saved = dict(Message.objects.filter(pk__in=ids).values_list("pk", "ttft_ms"))
    for answer in answers:
        ttft = saved.get(answer.message_id)
        if ttft is not None:
            answer.model_ms = ttft - delay * 1000


async def first_message(port: int, person: Person, delay: float) -> Answer:
    [sock] = await connect_all(port, [person], delay)
    try:
        return await sock.ask("Hello, first message after start-up")
    finally:
        await close_all([sock])


async def run_sequential(port: int, person: Person, delay: float, count: int, meter: CpuMeter) -> Phase:
    [sock] = await connect_all(port, [person], delay)
    try:
        before, started = meter.sample(), time.perf_counter()
        answers = [await sock.ask(f"Sequential message {i}") for i in range(count)]
        return _phase("one at a time", answers, meter, before, started, 1)
    finally:
        await close_all([sock])


async def run_concurrent(
    port: int, people: list[Person], delay: float, rounds: int, meter: CpuMeter
) -> Phase:
    sockets = await connect_all(port, people, delay)
    try:
        await asyncio.sleep(0.5)  # let the web process settle after the connection burst
        before, started = meter.sample(), time.perf_counter()
        answers: list[Answer] = []
        for round_no in range(rounds):
            go = asyncio.Event()

            async def person(sock: ChatSocket, index: int) -> Answer:
                await go.wait()
                return await sock.ask(f"Round {round_no} from person {index}")

            tasks = [asyncio.ensure_future(person(s, i)) for i, s in enumerate(sockets)]
            await asyncio.sleep(0)
            go.set()  # everyone sends at the same moment
            answers += await asyncio.gather(*tasks)
        return _phase(f"K={len(people)} at once", answers, meter, before, started, len(people))
    finally:
        await close_all(sockets)


def _phase(name, answers, meter, before, started, people) -> Phase:
    wall = time.perf_counter() - started
    after = meter.sample()
    cpu = {k: after[k] - before[k] for k in after}
    return Phase(name, answers, cpu, wall, people)


# --- where the CPU goes: each piece of the per-chunk path alone ---------------


async def cpu_breakdown(fake_url: str, tokens: int, streams: int = 20) -> dict[str, float]:
    """CPU ms of this process per chunk (or per frame) for each step the
    worker takes, measured in isolation against the same fake model."""
    import httpx
    from channels.layers import get_channel_layer
    from django.conf import settings

    from museapp.chat import events
    from museapp.llm.adapter import StreamStats, stream_completion
    from museapp.llm.config import model_call

    result: dict[str, float] = {}
    messages = [
        {"role": "system", "content": settings.MUSE_SYSTEM_PROMPT},
        {"role": "user", "content": "breakdown"},
    ]

    async with httpx.AsyncClient(timeout=30) as client:

        async def raw_sse() -> int:
            chunks = 0
            request = {"model": "fake-model", "messages": messages, "stream": True}
            async with client.stream("POST", f"{fake_url}/chat/completions", json=request) as response:
                async for line in response.aiter_lines():
                    if line.startswith("data: ") and line != "data: [DONE]":
                        choices = json.loads(line[6:]).get("choices") or []
                        if choices and choices[0]["delta"].get("content"):
                            chunks += 1
            return chunks

        await raw_sse()
        start = time.process_time()
        counts = await asyncio.gather(*(raw_sse() for _ in range(streams)))
        result["raw SSE parse, httpx + json (per chunk)"] = (time.process_time() - start) * 1000 / max(1, sum(counts))

    call = model_call(model=MODEL, messages=messages)

    async def via_adapter() -> int:
        return sum([1 async for _ in stream_completion(call, StreamStats())])

    await via_adapter()  # litellm's first call sets up its client
    start = time.process_time()
    counts = await asyncio.gather(*(via_adapter() for _ in range(streams)))
    result["litellm stream via the adapter (per chunk)"] = (time.process_time() - start) * 1000 / max(1, sum(counts))

    # Per frame: the app's own publish step (whatever it does besides the
    # channel-layer send), then the channel-layer send alone.
    from museapp.chat.streaming import FramePublisher

    group = f"bench-breakdown-{uuid.uuid4().hex[:8]}"
    stream = events.message_stream(2**62)
    publisher = FramePublisher(group, stream)
    layer = get_channel_layer()
    event = events.tokens(stream, "tok1 tok2 ", 1, 2, 10.0)
    sends = 2000
    for label, step in (
        ("frame publish: FramePublisher.flush", None),
        ("  of which channel-layer group_send", lambda: layer.group_send(group, event)),
    ):
        for i in range(sends + 20):
            if i == 20:
                start = time.process_time()
            if step is None:
                publisher.pending.append("tok1 tok2 ")
                await publisher.flush()
            else:
                await step()
        result[f"{label} (per frame)"] = (time.process_time() - start) * 1000 / sends
    await layer.flush()
    try:  # the publisher may keep a snapshot of the answer in Redis
        from museapp.chat import livetext

        await livetext.clear(publisher.stream)
    except (ImportError, AttributeError):
        pass
    return result


def web_breakdown(person: Person, repeats: int = 30) -> dict[str, tuple[float, float]]:
    """Wall and CPU ms of this process for each step the web process takes
    per message, alone: what K simultaneous messages queue behind, since the
    consumer runs every ORM call on one thread (database_sync_to_async)."""
    from django.db import close_old_connections, connection

    from museapp.celery import ping
    from museapp.chat import frames, services
    from museapp.chat.models import Conversation, Message

    def timed(step) -> tuple[float, float]:
        step()  # once to warm
        wall, cpu = time.perf_counter(), time.process_time()
        for _ in range(repeats):
            step()
        return ((time.perf_counter() - wall) * 1000 / repeats, (time.process_time() - cpu) * 1000 / repeats)

    conversation = Conversation.objects.create(user_id=person.user_id)
    turns: list = []

    def connect() -> None:
        connection.ensure_connection()
        close_old_connections()  # CONN_MAX_AGE=0: closed after every call, as in the consumer

    def turn_start() -> None:
        close_old_connections()
        turns.append(services.turn_start(conversation=conversation, text="How are you?"))
        # Let the next turn start (a conversation takes one answer at a time).
        Message.objects.filter(pk=turns[-1].assistant_message.pk).update(status=Message.Status.DONE)
        close_old_connections()

    result = {
        "DB connection open + close": timed(connect),
        "turn_start: transaction (+ connection, + answer reset)": timed(turn_start),
    }
    turn = turns[-1]
    result["turn frame render"] = timed(
        lambda: frames.turn_for_sender([turn.user_message, turn.assistant_message], "abc", None)
    )
    result["Celery .delay() (muse.ping)"] = timed(lambda: ping.delay())

    # Channels' AsyncConsumer.dispatch awaits this before every handler, token
    # frames included: a hop to the one thread that also runs the ORM calls.
    from channels.db import aclose_old_connections

    async def hops(count: int) -> None:
        for _ in range(count):
            await aclose_old_connections()

    asyncio.run(hops(10))
    wall, cpu = time.perf_counter(), time.process_time()
    asyncio.run(hops(1000))
    result["aclose_old_connections(), per event (every frame)"] = (
        (time.perf_counter() - wall), (time.process_time() - cpu)
    )
    conversation.delete()
    close_old_connections()
    return result


# --- report --------------------------------------------------------------------


def verdict(value: float | None, target: float | None) -> str:
    if target is None or value is None:
        return ""
    return "ok" if value <= target else "MISSED"


def report(args, setup: str, first: Answer, phases: list[Phase]) -> None:
    tokens, cores = args.tokens, psutil.cpu_count()
    print()
    print(f"Muse TTFT overhead: {setup}; {args.workers} worker process(es) x {args.concurrency} threads")
    print(
        f"fake model: first token after {args.first_token_delay * 1000:.0f} ms (subtracted from every "
        f"figure), then {tokens} tokens x {args.token_delay * 1000:.0f} ms"
    )
    print()
    header = (
        f"{'phase':<22}{'msgs':>6}{'p50 ms':>9}{'p95 ms':>9}{'web':>7}{'call':>7}{'rest':>7}"
        f"{'done p95 s':>11}{'lost':>6}{'err':>5}{'short':>7}   target"
    )
    print(header)
    print("-" * (len(header) + 30))
    web, call, rest = first.parts or (None, None, None)
    line = (
        f"{'first after start-up':<22}{1:>6}{fmt(first.overhead_ms):>9}{'':>9}{fmt(web):>7}{fmt(call):>7}"
        f"{fmt(rest):>7}{fmt(first.done_ms and first.done_ms / 1000, 2):>11}"
        f"{int(first.status == 'lost'):>6}{int(first.status not in ('done', 'lost')):>5}{'':>7}"
        f"   <= {TARGET_FIRST_MS} ms {verdict(first.overhead_ms, TARGET_FIRST_MS)}"
    )
    print(line)
    for phase in phases:
        p50, p95 = percentile(phase.overheads, 50), percentile(phase.overheads, 95)
        done = percentile([a.done_ms for a in phase.answers if a.done_ms is not None], 95)
        short = sum(1 for a in phase.answers if a.status == "done" and a.tokens < tokens)
        errors = len(phase.answers) - phase.count("done", "lost")
        web, call, rest = phase.split()
        line = (
            f"{phase.name:<22}{len(phase.answers):>6}{fmt(p50):>9}{fmt(p95):>9}{fmt(web):>7}"
            f"{fmt(call):>7}{fmt(rest):>7}{fmt(done and done / 1000, 2):>11}"
            f"{phase.count('lost'):>6}{errors:>5}{short:>7}"
        )
        if phase.people == 1:
            t = TARGET_SEQUENTIAL
            line += f"   p50 <= {t['p50']} {verdict(p50, t['p50'])}, p95 <= {t['p95']} {verdict(p95, t['p95'])}"
        elif phase.people in TARGET_CONCURRENT_P95:
            t = TARGET_CONCURRENT_P95[phase.people]
            ok = verdict(p95, t) if phase.count("lost") == 0 else "MISSED (lost)"
            line += f"   p95 <= {t} ms, 0 lost: {ok}"
        print(line)
    problems = sorted({f"{a.status}: {a.detail}" for p in phases for a in p.answers
                       if a.status not in ("done", "lost")})
    for problem in problems[:5]:
        print(f"  ! {problem}")
    print(
        "p50/p95: send -> first token frame at the client, minus the model's delay. web / call / rest\n"
        "(p50 of each part): send -> the turn frame back (socket, DB transaction, render) / the worker's\n"
        "own TTFT minus the delay (litellm) / the remainder (enqueue, Celery, worker pick-up, frame\n"
        "publish, channel layer, web consumer, client). lost: no final frame within "
        f"{ANSWER_TIMEOUT:.0f} s;\nerr: error or refused; short: done, but the frames carried fewer than {tokens} tokens."
    )

    print()
    print("CPU over each phase, per streamed chunk (one token the model sent) or per frame the clients got")
    header = (
        f"{'phase':<22}{'chunks':>7}{'frames':>7}{'tok/frame p50/p95':>19}{'worker ms/chunk':>16}"
        f"{'web ms/frame':>13}{'redis ms/frame':>15}{'fake ms/chunk':>14}{'client ms/frame':>16}{'CPU ours/all':>13}"
    )
    print(header)
    print("-" * len(header))
    noisy = []
    for phase in phases:
        chunks = tokens * len(phase.answered)
        frames = sum(a.frames for a in phase.answers)
        per_frame = phase.token_frames
        capacity = phase.wall * cores
        ours = sum(v for k, v in phase.cpu.items() if k != "machine")
        busy = f"{ours / capacity * 100:.0f}/{phase.cpu['machine'] / capacity * 100:.0f}%" if capacity else "-"
        if capacity and (phase.cpu["machine"] - ours) / capacity > 0.15:
            noisy.append(f"{phase.name} {(phase.cpu['machine'] - ours) / capacity * 100:.0f}%")
        print(
            f"{phase.name:<22}{chunks:>7}{frames:>7}"
            f"{fmt(percentile(per_frame, 50), 0) + ' / ' + fmt(percentile(per_frame, 95), 0):>19}"
            f"{fmt(phase.cpu['worker'] * 1000 / max(1, chunks), 3):>16}"
            f"{fmt(phase.cpu['web'] * 1000 / max(1, frames), 3):>13}"
            f"{fmt(phase.cpu['redis'] * 1000 / max(1, frames) if 'redis' in phase.cpu else None, 3):>15}"
            f"{fmt(phase.cpu['fake'] * 1000 / max(1, chunks), 3):>14}"
            f"{fmt(phase.cpu['client'] * 1000 / max(1, frames), 3):>16}"
            f"{busy:>13}"
        )
    print(
        "worker, fake: all their CPU / chunks; web, redis, client: all their CPU / frames received\n"
        "(per-message work included; redis only when embedded). CPU ours/all: these processes / the\n"
        f"whole machine (an external Redis or PostgreSQL counts as 'all'), share of {cores} cores."
    )
    if noisy:
        print(f"NOTE: other work used this machine's CPU ({', '.join(noisy)}): figures inflated.")


def report_worker_steps(args, phases: list[Phase], breakdown: dict[str, float]) -> None:
    tokens = args.tokens
    if breakdown:
        print()
        print("Where the worker's CPU goes: each step of its per-chunk path alone, in this process")
        for name, ms in breakdown.items():
            print(f"  {name:<56}{ms:>6.3f} ms")
        phase = ([p for p in phases if p.people > 1] or phases)[-1]
        answered, frames = len(phase.answered), len(phase.token_frames)
        if answered:
            parse = breakdown["litellm stream via the adapter (per chunk)"] * tokens * answered
            publish = breakdown["frame publish: FramePublisher.flush (per frame)"] * frames
            worker = phase.cpu["worker"] * 1000
            print(
                f"  {phase.name}: worker CPU per answer {worker / answered:.1f} ms ~ litellm {parse / answered:.1f}"
                f" ({tokens} chunks) + frame publish {publish / answered:.1f} ({frames / answered:.1f} frames)"
                f" + the rest (Celery, DB, threads) {(worker - parse - publish) / answered:.1f}"
            )


def report_web_steps(web_steps: dict[str, tuple[float, float]]) -> None:
    if web_steps:
        print()
        print("Where the web process's time goes per message: each step alone, in this process (wall / CPU)")
        for name, (wall, cpu) in web_steps.items():
            print(f"  {name:<56}{wall:>6.2f} / {cpu:.2f} ms")


# --- main ------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Muse time-to-first-token benchmark")
    parser.add_argument("--quick", action="store_true", help="10 sequential, K=10 and 25, one round")
    parser.add_argument("--k", type=lambda s: [int(x) for x in s.split(",") if x], default=None,
                        help="concurrency levels, comma-separated (default 50,200; quick 10,25)")
    parser.add_argument("--sequential", type=int, default=None, help="messages one at a time (default 50)")
    parser.add_argument("--rounds", type=int, default=None, help="rounds per concurrency level (default 2)")
    parser.add_argument("--concurrency", type=int,
                        default=int(os.environ.get("MUSE_WORKER_CONCURRENCY", "128")),
                        help="threads per worker, as `manage.py serve --concurrency` (default 128)")
    parser.add_argument("--workers", type=int, default=int(os.environ.get("MUSE_WORKERS", "2")),
                        help="worker processes, as `manage.py serve --workers` (default 2)")
    parser.add_argument("--first-token-delay", type=float, default=0.2)
    parser.add_argument("--tokens", type=int, default=40)
    parser.add_argument("--token-delay", type=float, default=0.01)
    parser.add_argument("--settle", type=float, default=0.0,
                        help="seconds to wait after start-up before the first message (default 0)")
    parser.add_argument("--no-breakdown", action="store_true", help="skip the per-step CPU breakdown")
    parser.add_argument("--keep", action="store_true", help="keep the run's data directory and logs")
    args = parser.parse_args()
    if args.k is None:
        args.k = [10, 25] if args.quick else [50, 200]
    if args.sequential is None:
        args.sequential = 10 if args.quick else 50
    if args.rounds is None:
        args.rounds = 1 if args.quick else 2
    return args


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def main() -> int:
    args = parse_args()
    # Started with `&` from a script, SIGINT is ignored: handle it ourselves.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _interrupt)

    base = Path(os.environ.get("MUSE_DATA_DIR") or tempfile.gettempdir())
    base.mkdir(parents=True, exist_ok=True)
    run_dir = Path(tempfile.mkdtemp(prefix="ttft-", dir=base)).resolve()
    fake_port, web_port = free_port(), free_port()
    configure_environment(run_dir, fake_port)
    processes = Processes(run_dir)
    prefix = f"bench-{run_dir.name}"
    people: list[Person] = []
    failed = False
    try:
        import django

        django.setup()
        from django.conf import settings
        from django.core.management import call_command
        from django.db import connections

        from museapp.ops import embedded_redis
        from museapp.ops.management.commands.serve import web_command, worker_command

        database = settings.DATABASES["default"]
        setup = (
            f"{'SQLite (fresh file)' if database['ENGINE'].endswith('sqlite3') else 'PostgreSQL ' + database['NAME']}"
            f" + {'embedded Redis' if settings.EMBEDDED_REDIS else 'Redis ' + settings.REDIS_URL}"
        )
        print(f"[bench] {setup}; run directory {run_dir}", flush=True)
        if settings.EMBEDDED_REDIS:
            processes.redis = embedded_redis.from_settings()
            processes.redis.start()
        call_command("migrate", interactive=False, verbosity=0)

        fake = processes.spawn("fake", [
            sys.executable, "-m", "tests.fakellm", "--port", str(fake_port),
            "--first-token-delay", str(args.first_token_delay),
            "--tokens", str(args.tokens), "--token-delay", str(args.token_delay),
        ])
        started = time.perf_counter()
        workers = [
            processes.spawn(f"worker{i}", worker_command(args.concurrency, settings.CELERY_TASK_DEFAULT_QUEUE,
                                                         f"{run_dir.name}-{i}"))
            for i in range(args.workers)
        ]
        people = create_people(max([1, *args.k]), prefix)
        connections.close_all()
        wait_for_port(fake_port, fake, "fake model")
        wait_for_workers(processes, args.workers)
        web = processes.spawn("web", web_command("127.0.0.1", web_port))
        wait_for_port(web_port, web, "web")
        print(f"[bench] worker and web up in {time.perf_counter() - started:.1f} s", flush=True)

        pids = {"worker": [w.pid for w in workers], "web": [web.pid], "fake": [fake.pid], "client": [os.getpid()]}
        if processes.redis is not None:
            pids["redis"] = [processes.redis.process.pid]
        meter = CpuMeter(pids)
        delay = args.first_token_delay
        phases: list[Phase] = []

        async def measure() -> Answer:
            await asyncio.sleep(args.settle)
            first = await first_message(web_port, people[0], delay)
            print(f"[bench] first message: {fmt(first.overhead_ms)} ms overhead ({first.status})", flush=True)
            phase = await run_sequential(web_port, people[0], delay, args.sequential, meter)
            phases.append(phase)
            _progress(phase)
            for k in args.k:
                processes.check()
                phase = await run_concurrent(web_port, people[:k], delay, args.rounds, meter)
                phases.append(phase)
                _progress(phase)
            return first

        first = _run_async(measure())
        processes.check()
        for phase in phases:
            read_model_times(phase.answers, delay)
        read_model_times([first], delay)
        report(args, setup, first, phases)
        if not args.no_breakdown:
            # These reach into the app's internals, which change: a failure
            # here must not cost the figures above.
            try:
                breakdown = asyncio.run(cpu_breakdown(f"http://127.0.0.1:{fake_port}/v1", args.tokens))
                report_worker_steps(args, phases, breakdown)
            except Exception as exc:  # noqa: BLE001
                print(f"\n(worker steps not timed: {type(exc).__name__}: {exc})")
            try:
                report_web_steps(web_breakdown(people[0]))
            except Exception as exc:  # noqa: BLE001
                print(f"\n(web steps not timed: {type(exc).__name__}: {exc})")
        return 0
    except KeyboardInterrupt:
        print("\n[bench] interrupted; stopping everything", flush=True)
        return 130
    except Exception:
        failed = True
        for name in processes.children:
            tail = processes.log_tail(name)
            if tail:
                print(f"--- {name}.log (end) ---\n{tail}", file=sys.stderr)
        raise
    finally:
        # A second Ctrl-C must not interrupt the clean-up.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        processes.stop_all()
        if people and "DATABASE_URL" in os.environ:
            try:
                delete_people(prefix, people)
            except Exception as exc:  # noqa: BLE001 - clean-up is best effort
                print(f"[bench] could not delete the run's users: {exc}", file=sys.stderr)
        if args.keep or failed:
            print(f"[bench] data and logs kept in {run_dir}", file=sys.stderr)
        else:
            shutil.rmtree(run_dir, ignore_errors=True)


def _progress(phase: Phase) -> None:
    print(
        f"[bench] {phase.name}: p50 {fmt(percentile(phase.overheads, 50))} ms, "
        f"p95 {fmt(percentile(phase.overheads, 95))} ms, lost {phase.count('lost')}, "
        f"{phase.wall:.1f} s",
        flush=True,
    )


def _run_async(coro):
    """The clients' event loop: uvloop when installed (uvicorn[standard] brings
    it), so the benchmark's own client takes less of the shared CPU."""
    try:
        import uvloop

        factory = uvloop.new_event_loop
    except ImportError:
        factory = None
    with asyncio.Runner(loop_factory=factory) as runner:
        return runner.run(coro)


if __name__ == "__main__":
    sys.exit(main())
