#!/usr/bin/env python
"""Soak: M people chat with Muse for T minutes, as browser tabs would, and
nothing may be lost, fail or leak.

Each person opens their conversation's page, keeps its WebSocket open, sends a
message, waits for the answer to finish, thinks for 2-6 s and sends the next;
a share of the messages is sent with contemplating on (the agents draft, then
one merged answer). Every so many messages the person starts a new chat, as
the page's "New chat" button does. The app runs as in production (see
bench/harness.py); the only fake is the model (``tests.fakellm``).

It prints messages sent, completed, lost and failed (with the reasons), the
time to first token, and the memory of the web and worker processes after a
warm-up and at the end, then PASS or MISS against the target: 50 people for
10 minutes, 0 lost, 0 errors, memory growth under 10 %.

With ``--faults`` it runs on PostgreSQL, RabbitMQ and two stream Redis
servers (bench/soak_faults.py), SIGKILLs a worker every 5 minutes and starts
another, restarts one stream Redis server once and PostgreSQL once. Answers
the faults interrupt (closed with a Retry button) are counted apart from
lost ones, every answer's final state is read back from the database, and
first-token times and memory (web, workers, each Redis) are shown for each
10 minutes. Target: 0 lost, none left unfinished, growth after the warm-up
under 5 %.

    .venv/bin/python bench/soak.py            # 50 people, 10 minutes
    .venv/bin/python bench/soak.py --quick    # 10 people, 1 minute
    .venv/bin/python bench/soak.py --minutes 60 --faults

See bench/README.md for what each figure means. Exit status 1 on a MISS.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil
import websockets

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import (  # noqa: E402 - the shared start-up, clients and readings
    ANSWER_TIMEOUT,
    Answer,
    BenchRun,
    ChatSocket,
    CpuMeter,
    Person,
    fmt,
    percentile,
    run_async,
)

TARGET_USERS, TARGET_MINUTES, TARGET_GROWTH_PERCENT = 50, 10, 10.0
FAULTS_MINUTES, FAULTS_GROWTH_PERCENT = 60, 5.0  # --faults: an hour; growth after the warm-up, each role
WARM_UP_SHARE = 0.1  # the memory baseline is taken no earlier than this share of the run
MEMORY_EVERY = 5.0  # seconds between memory samples (for the peak)
JUDGED = ("web", "worker")  # the processes whose memory growth is judged

QUESTIONS = [
    "What is a good name for a grey cat?",
    "Explain recursion to a ten-year-old.",
    "Summarise the plot of Hamlet in three sentences.",
    "How do I boil an egg so the yolk stays soft?",
    "Which is faster to learn, Spanish or Italian, and why?",
    "Write a haiku about a train at night.",
    "What should I check before buying a used bicycle?",
    "Give me three ideas for a rainy Sunday.",
]


@dataclass
class Sent:
    contemplate: bool
    answer: Answer
    at: float = 0.0  # seconds into the run when it was sent

    @property
    def interrupted(self) -> bool:
        """Closed by a fault (its worker died), what it streamed kept, with a Retry button."""
        return self.answer.status == "error" and "Interrupted" in self.answer.detail

    @property
    def refused_in_outage(self) -> bool:
        """Not sent while the database was away; the text stayed in the box."""
        return self.answer.status == "rejected" and "reach its database" in self.answer.detail


@dataclass
class Soak:
    """What the people did and what the processes used, as the run goes."""

    people: int
    started: float  # monotonic
    stop_at: float  # no new message after this
    contemplate_share: float
    sent: list[Sent] = field(default_factory=list)
    in_flight: int = 0
    problems: Counter = field(default_factory=Counter)  # reasons of errors that are not answers
    answered: set[int] = field(default_factory=set)  # people with at least one finished answer
    contemplated: bool = False  # a contemplating answer has finished
    memory: dict[str, dict[str, int]] = field(default_factory=dict)  # start / end / idle -> role -> bytes
    peak: dict[str, int] = field(default_factory=dict)
    latest: dict[str, int] = field(default_factory=dict)  # the last sample, for the progress lines
    threads: dict[str, dict[str, int]] = field(default_factory=dict)  # start / end / idle -> role -> threads
    baseline_at: float | None = None  # seconds into the run
    baseline_note: str = ""
    faulted: bool = False
    windows: list[dict] = field(default_factory=list)  # each window's end, memory and Redis readings

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def record(self, index: int, contemplate: bool, answer: Answer, at: float) -> None:
        self.sent.append(Sent(contemplate, answer, at))
        if answer.status == "done":
            self.answered.add(index)
            self.contemplated |= contemplate

    @property
    def warm(self) -> bool:
        return len(self.answered) == self.people and (self.contemplated or not self.contemplate_share)

    def count(self, *statuses: str) -> int:
        return sum(1 for s in self.sent if s.answer.status in statuses)

    @property
    def interrupted(self) -> int:
        return sum(1 for s in self.sent if s.interrupted)

    @property
    def refused_in_outage(self) -> int:
        return sum(1 for s in self.sent if s.refused_in_outage)

    @property
    def errors(self) -> int:
        """Failures a fault does not explain (under --faults, interrupted
        answers and sends refused while the database was away are expected)."""
        expected = self.interrupted + self.refused_in_outage if self.faulted else 0
        return len(self.sent) - self.count("done", "lost") - expected + sum(self.problems.values())


# --- a person's browser tab ------------------------------------------------------


class Tab:
    """One person's tab: the page over HTTP (with its cookies, as a browser
    keeps them) and the conversation's WebSocket."""

    def __init__(self, port: int, person: Person, delay: float):
        self.port, self.person, self.delay = port, person, delay
        self.http = httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}", cookies={"sessionid": person.session_key}, timeout=30
        )
        self.socket: ChatSocket | None = None
        self.page = ""

    async def open(self, conversation_id: int) -> None:
        """Load the conversation's page, then connect its socket."""
        response = await self.http.get(f"/c/{conversation_id}/")
        response.raise_for_status()
        await self._connect(conversation_id, response.text)

    async def new_chat(self) -> None:
        """The page's "New chat" button: a POST that redirects to the new
        conversation's page; then that page's socket."""
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', self.page)
        response = await self.http.post(
            "/c/new/", data={"csrfmiddlewaretoken": token.group(1) if token else ""},
            headers={"Origin": f"http://127.0.0.1:{self.port}"}, follow_redirects=True,
        )
        response.raise_for_status()
        found = re.search(r"/c/(\d+)/$", response.url.path)
        if found is None:
            raise RuntimeError(f"New chat led to {response.url.path}")
        await self.close_socket()
        await self._connect(int(found.group(1)), response.text)

    async def _connect(self, conversation_id: int, page: str) -> None:
        self.page = page
        self.person = Person(self.person.user_id, conversation_id, self.person.session_key)
        self.socket = ChatSocket(self.port, self.person, self.delay)
        await self.socket.connect()

    async def reconnect(self, attempts: int = 3) -> None:
        """As htmx's ws extension does after an abnormal close: back off, retry."""
        for attempt in range(attempts):
            await asyncio.sleep(min(1 + attempt, 5))
            try:
                await self.socket.connect()
                return
            except (OSError, TimeoutError, websockets.WebSocketException):
                if attempt == attempts - 1:
                    raise

    async def close_socket(self) -> None:
        if self.socket is not None:
            try:
                await self.socket.close()
            except Exception:  # noqa: BLE001 - it is going away anyway
                pass

    async def close(self) -> None:
        await self.close_socket()
        await self.http.aclose()


async def chat(soak: Soak, tab: Tab, index: int, args, timeouts: dict[bool, float]) -> None:
    """One person: open the page, then message, wait for the answer, think,
    until the run's time is up."""
    rng = random.Random(args.seed * 100_003 + index)
    think_min, think_max = args.think
    # People arrive spread over one think time, not all in the same second.
    await asyncio.sleep(rng.uniform(0, think_max))
    try:
        await tab.open(tab.person.conversation_id)
    except Exception as exc:  # noqa: BLE001 - the person cannot even start: an error
        soak.problems[f"opening the page failed: {_reason(exc)}"] += 1
        return
    turns = 0
    # Through faults, people are patient: a page that fails is loaded again, a socket reconnected for longer.
    patience = 8 if args.faults else 1
    while time.monotonic() < soak.stop_at:
        if turns == args.turns_per_chat:
            for attempt in range(patience):
                try:
                    await tab.new_chat()
                    break
                except Exception as exc:  # noqa: BLE001
                    if attempt == patience - 1:
                        soak.problems[f"new chat failed: {_reason(exc)}"] += 1
                        return
                    await asyncio.sleep(2)
            turns = 0
        contemplate = rng.random() < args.contemplate_share
        soak.in_flight += 1
        at = soak.elapsed()
        try:
            answer = await tab.socket.ask(rng.choice(QUESTIONS), timeouts[contemplate], contemplate)
        finally:
            soak.in_flight -= 1
        soak.record(index, contemplate, answer, at)
        turns += 1
        if answer.status == "failed":  # the socket closed
            try:
                await tab.reconnect(attempts=3 * patience)
            except Exception as exc:  # noqa: BLE001
                soak.problems[f"reconnect failed: {_reason(exc)}"] += 1
                return
        # Think, but not past the end of the run.
        await asyncio.sleep(max(0.0, min(rng.uniform(think_min, think_max), soak.stop_at - time.monotonic())))


def _reason(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:200]


# --- watching the processes ---------------------------------------------------


def _families(pids: list[int]) -> list[psutil.Process]:
    """These processes and all their children."""
    family = []
    for pid in pids:
        try:
            process = psutil.Process(pid)
            family += [process, *process.children(recursive=True)]
        except psutil.NoSuchProcess:
            pass
    return family


def rss_bytes(pids: list[int]) -> int:
    total = 0
    for process in _families(pids):
        try:
            total += process.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total


def thread_count(pids: list[int]) -> int:
    """Threads grow with the most streams a worker ran at once (its pool
    starts them on demand) and each holds memory: shown beside the growth."""
    total = 0
    for process in _families(pids):
        try:
            total += process.num_threads()
        except psutil.NoSuchProcess:
            pass
    return total


def take(soak: Soak, moment: str, roles: dict[str, list[int]], sample: dict[str, int] | None = None) -> None:
    """Memory (and threads) at one of the moments the report shows."""
    soak.memory[moment] = sample or {role: rss_bytes(pids) for role, pids in roles.items()}
    soak.threads[moment] = {role: thread_count(pids) for role, pids in roles.items()}


def roles_of(run: BenchRun, faults) -> dict[str, list[int]]:
    """The processes whose memory is read, by role: read anew each time, as
    --faults replaces workers and restarts Redis servers."""
    roles = {role: pids for role, pids in run.pids().items() if role in (*JUDGED, "redis")}
    return {**roles, **(faults.shard_pids() if faults else {})}


async def watch(soak: Soak, run: BenchRun, progress_every: float, minimum_warm_up: float, window: float,
                faults=None) -> None:
    """Memory samples (the baseline after the warm-up, the peak, the end at
    the stop time, each window's end) and a progress line now and then."""
    next_sample = next_progress = 0.0
    next_window = window
    half_time = (soak.stop_at - soak.started) / 2
    while True:
        now = soak.elapsed()
        stopping = time.monotonic() >= soak.stop_at
        roles = roles_of(run, faults)
        sample = None
        if now >= next_sample or now >= next_window or stopping or (soak.baseline_at is None and soak.warm):
            sample = {role: rss_bytes(pids) for role, pids in roles.items()}
            for role, value in sample.items():
                soak.peak[role] = max(soak.peak.get(role, 0), value)
            soak.latest = sample
            next_sample = now + MEMORY_EVERY
        if soak.baseline_at is None and sample is not None:
            if soak.warm and now >= minimum_warm_up:
                contemplating = " and a contemplating answer" if soak.contemplate_share else ""
                soak.baseline_note = (f"after the warm-up (every person's first answer{contemplating} done,"
                                      f" and at least {minimum_warm_up:.0f} s in)")
            elif now >= half_time:
                missing = f"{soak.people - len(soak.answered)} of {soak.people} people without a finished answer"
                if soak.contemplate_share and not soak.contemplated:
                    missing += ", no contemplating answer finished"
                soak.baseline_note = f"at half time: the warm-up was not complete ({missing})"
            if soak.baseline_note:
                take(soak, "start", roles, sample)
                soak.baseline_at = now
        if sample is not None and (now >= next_window or stopping):
            soak.windows.append({"end": now, "memory": dict(sample),
                                 "redis": faults.shard_info() if faults else {}})
            next_window += window
        if now >= next_progress or stopping:
            run.processes.check()
            _progress(run, soak)
            next_progress = now + progress_every
        if stopping:
            take(soak, "end", roles, sample)
            return
        await asyncio.sleep(min(1.0, max(0.0, soak.stop_at - time.monotonic())))


def _progress(run: BenchRun, soak: Soak) -> None:
    memory = ""
    if soak.latest:
        memory = f"; RSS web {soak.latest['web'] / 2**20:.0f} MB, workers {soak.latest['worker'] / 2**20:.0f} MB"
    run.say(
        f"{_clock(soak.elapsed())} sent {len(soak.sent) + soak.in_flight}, done {soak.count('done')}, "
        f"lost {soak.count('lost')}, errors {soak.errors}{memory}"
    )


def _clock(seconds: float) -> str:
    return f"{int(seconds // 60)}:{int(seconds % 60):02d}"


# --- report ----------------------------------------------------------------------


def _signed(percent: float | None) -> str:
    return "-" if percent is None else f"{percent:+.1f} %"


def growth_percent(soak: Soak, role: str) -> float | None:
    start, end = soak.memory.get("start", {}).get(role), soak.memory.get("end", {}).get(role)
    return None if not start or end is None else (end - start) / start * 100


def report_windows(soak: Soak, happened: list[tuple[float, str]]) -> None:
    """First-token times and memory for each window of the run, and the faults."""
    print()
    for at, what in happened:
        print(f"  {_clock(at)} {what}")
    roles = list(soak.windows[0]["memory"]) if soak.windows else []
    header = f"{'window':<12}{'sent':>6}{'done':>6}{'intr':>6}{'lost':>6}{'p50 ms':>8}{'p95 ms':>8}" + "".join(
        f"{role[:14]:>16}" for role in roles)
    print()
    print(header + "   (memory: RSS MB; Redis shards: used MB / keys)")
    print("-" * len(header))
    start = 0.0
    for window in soak.windows:
        sent = [s for s in soak.sent if start <= s.at < window["end"]]
        firsts = [s.answer.first_token_ms for s in sent if not s.contemplate and s.answer.first_token_ms is not None]
        cells = []
        for role in roles:
            rss = window["memory"].get(role)
            used = window["redis"].get(role)
            cells.append(f"{fmt(rss and rss / 2**20, 0)}" + (f" {used[0] / 2**20:.1f}/{used[1]}" if used else ""))
        print(f"{_clock(start) + '-' + _clock(window['end']):<12}{len(sent):>6}"
              f"{sum(1 for s in sent if s.answer.status == 'done'):>6}{sum(1 for s in sent if s.interrupted):>6}"
              f"{sum(1 for s in sent if s.answer.status == 'lost'):>6}{fmt(percentile(firsts, 50), 0):>8}"
              f"{fmt(percentile(firsts, 95), 0):>8}" + "".join(f"{cell:>16}" for cell in cells))
        start = window["end"]
    print("first token: quick answers sent in the window; intr: interrupted by a fault.")


def audit_answers(prefix: str) -> tuple[dict[str, int], int]:
    """Every answer of the run's people as the database holds it at the end:
    counts by status, and how many are still "streaming" (left unfinished)."""
    from django.db.models import Count

    from museapp.chat.models import Message

    rows = (Message.objects.filter(conversation__user__username__startswith=f"{prefix}-", author="assistant")
            .values("status").annotate(n=Count("id")))
    counts = {row["status"]: row["n"] for row in rows}
    return counts, counts.get(Message.Status.STREAMING, 0)


def report(args, run: BenchRun, soak: Soak, settings, cpu: dict[str, float], wall: float,
           faults_happened: list | None = None, audit: str = "", unfinished: int = 0) -> bool:
    minutes = args.minutes
    print()
    print(f"Muse soak: {args.users} people for {minutes:g} min, {args.contemplate_share:.0%} of messages contemplating "
          f"({settings.MUSE_AGENTS} agents + the merge); {run.setup}; {args.workers} worker process(es) x "
          f"{args.concurrency} threads")
    print(f"fake model: first token after {args.first_token_delay * 1000:.0f} ms, then {args.tokens} tokens x "
          f"{args.token_delay * 1000:.0f} ms; think time {args.think[0]:g}-{args.think[1]:g} s after each answer; "
          f"a new chat every {args.turns_per_chat} messages")
    print()

    done = soak.count("done")
    lost = soak.count("lost")
    short = sum(1 for s in soak.sent if s.answer.status == "done" and s.answer.tokens < args.tokens)
    print(f"messages: {len(soak.sent)} sent ({len(soak.sent) / minutes:.0f}/min), {done} completed, {lost} lost, "
          f"{soak.errors} errors; {short} completed short")
    if soak.faulted:
        print(f"faults: {soak.interrupted} answers interrupted (closed with Retry, what streamed kept), "
              f"{soak.refused_in_outage} sends refused while PostgreSQL was down (text kept in the box)")
    reasons = Counter(f"{s.answer.status}: {s.answer.detail}" for s in soak.sent
                      if s.answer.status not in ("done", "lost") and not (soak.faulted and s.interrupted))
    reasons.update(soak.problems)
    for reason, count in reasons.most_common(8):
        print(f"  ! {count} x {reason}")
    print()

    quick = [s.answer for s in soak.sent if not s.contemplate]
    deep = [s.answer for s in soak.sent if s.contemplate]
    rows = [  # (name, answers, first-token times, whether to show their done times)
        ("quick: first token", quick, [a.first_token_ms for a in quick], True),
        ("contemplating: first agent token", deep, [a.first_agent_token_ms for a in deep], False),
        ("contemplating: first merged token", deep, [a.first_token_ms for a in deep], True),
    ]
    header = f"{'time to first token':<36}{'msgs':>6}{'p50 ms':>9}{'p95 ms':>9}{'done p50 s':>12}{'done p95 s':>12}"
    print(header)
    print("-" * len(header))
    for name, answers, firsts, show_done in rows:
        firsts = [f for f in firsts if f is not None]
        dones = [a.done_ms / 1000 for a in answers if show_done and a.done_ms is not None and a.status == "done"]
        print(f"{name:<36}{len(answers):>6}{fmt(percentile(firsts, 50), 0):>9}{fmt(percentile(firsts, 95), 0):>9}"
              f"{fmt(percentile(dones, 50), 2):>12}{fmt(percentile(dones, 95), 2):>12}")
    print(f"send -> the first token frame for that answer (an agent's draft, or the answer itself) at the\n"
          f"client, including the model's {args.first_token_delay * 1000:.0f} ms; done: send -> the final status. "
          f"lost: no final status\nwithin {ANSWER_TIMEOUT:.0f} s (contemplating: "
          f"{ANSWER_TIMEOUT + settings.MUSE_CONTEMPLATE_DEADLINE:.0f} s); errors: an error status, a refused "
          f"message, a closed socket\nor a page that failed; short: done, but the frames carried fewer than "
          f"{args.tokens} tokens (frames dropped).")
    print()

    header = (f"{'memory (RSS with children), MB':<36}{'start':>8}{'end':>8}{'peak':>8}{'idle':>8}{'growth':>9}"
              f"{'threads start/end/idle':>24}")
    print(header)
    print("-" * len(header))
    labels = {"web": "web", "worker": f"workers ({args.workers})", "redis": "redis (embedded; not judged)",
              **{role: role for role in soak.peak if role.startswith("redis shard")}}
    for role, label in labels.items():
        if role not in soak.peak:
            continue
        values = [soak.memory.get(k, {}).get(role) for k in ("start", "end")]
        values += [soak.peak[role], soak.memory.get("idle", {}).get(role)]
        growth = growth_percent(soak, role)
        threads = "/".join(fmt(soak.threads.get(k, {}).get(role), 0) for k in ("start", "end", "idle"))
        print(f"{label:<36}" + "".join(f"{fmt(v and v / 2**20, 0):>8}" for v in values) + f"{_signed(growth):>9}"
              + f"{threads:>24}")
    baseline = "-" if soak.baseline_at is None else _clock(soak.baseline_at)
    print(f"start: at {baseline}, {soak.baseline_note or 'never taken'}.\n"
          f"end: at {_clock(soak.stop_at - soak.started)}, when the people stop sending (the same load as at the start)."
          f" idle: after the\nlast answers finished. growth: end over start. peak: of samples every {MEMORY_EVERY:.0f} s.")

    if soak.faulted:
        report_windows(soak, faults_happened)
        print(f"in the database at the end: {audit}")

    cores = psutil.cpu_count()
    capacity = wall * cores
    if soak.faulted:  # the killed workers' CPU went with them: only the machine's is known
        print(f"CPU: the whole machine {cpu['machine'] / capacity:.0%} of {cores} cores")
    else:
        ours = sum(v for k, v in cpu.items() if k != "machine")
        print(f"CPU: these processes {ours / capacity:.0%}, the whole machine {cpu['machine'] / capacity:.0%} "
              f"of {cores} cores")
        if (cpu["machine"] - ours) / capacity > 0.15:
            print(f"NOTE: other work used {(cpu['machine'] - ours) / capacity:.0%} of the machine: times inflated.")

    print()
    misses = []
    if lost:
        misses.append(f"{lost} lost")
    if soak.errors:
        misses.append(f"{soak.errors} errors")
    if unfinished:
        misses.append(f"{unfinished} left unfinished")
    limit = FAULTS_GROWTH_PERCENT if soak.faulted else TARGET_GROWTH_PERCENT
    judged = [*JUDGED, *(role for role in soak.peak if role.startswith("redis shard"))] if soak.faulted else JUDGED
    for role in judged:
        growth = growth_percent(soak, role)
        if growth is None:
            misses.append(f"no {role} memory baseline")
        elif growth >= limit:
            misses.append(f"{role} memory {_signed(growth)}")
    growths = ", ".join(f"{role} {_signed(growth_percent(soak, role))}" for role in judged)
    target_minutes = FAULTS_MINUTES if soak.faulted else TARGET_MINUTES
    scale = "" if (args.users, minutes) == (TARGET_USERS, target_minutes) else (
        f" (this run: {args.users} people x {minutes:g} min)")
    verdict = "PASS" if not misses else "MISS (" + "; ".join(misses) + ")"
    print(f"{verdict}: target 0 lost, 0 errors, memory growth < {limit:.0f} % at "
          f"{TARGET_USERS} people x {target_minutes} min{scale}; growth {growths}")
    return not misses


# --- main --------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="10 people for 1 minute")
    parser.add_argument("--users", type=int, default=None, help="people chatting at once (default 50)")
    parser.add_argument("--minutes", type=float, default=None, help="how long they chat (default 10)")
    parser.add_argument("--contemplate-share", type=float, default=0.25,
                        help="share of messages sent with contemplating on (default 0.25)")
    parser.add_argument("--think", type=lambda s: tuple(float(x) for x in s.split(",")), default=(2.0, 6.0),
                        help="think time between an answer and the next message, min,max seconds (default 2,6)")
    parser.add_argument("--turns-per-chat", type=int, default=10,
                        help="messages before a person starts a new chat (default 10)")
    parser.add_argument("--first-token-delay", type=float, default=0.3)
    parser.add_argument("--tokens", type=int, default=40)
    parser.add_argument("--token-delay", type=float, default=0.02)
    parser.add_argument("--workers", type=int, default=int(os.environ.get("MUSE_WORKERS", "2")),
                        help="worker processes, as `manage.py serve --workers` (default 2)")
    parser.add_argument("--concurrency", type=int, default=int(os.environ.get("MUSE_WORKER_CONCURRENCY", "128")),
                        help="threads per worker, as `manage.py serve --concurrency` (default 128)")
    parser.add_argument("--seed", type=int, default=1, help="for the people's choices (default 1)")
    parser.add_argument("--keep", action="store_true", help="keep the run's data directory and logs")
    parser.add_argument("--faults", action="store_true",
                        help="PostgreSQL + RabbitMQ + two stream Redis servers, hurt on a schedule "
                             "(bench/soak_faults.py)")
    parser.add_argument("--kill-every", type=float, default=5.0,
                        help="--faults: minutes between worker kills (default 5)")
    parser.add_argument("--window", type=float, default=None,
                        help="minutes per row of the per-window figures (default 10; --quick: 0.25)")
    args = parser.parse_args()
    args.users = args.users or (10 if args.quick else TARGET_USERS)
    args.minutes = args.minutes or (1 if args.quick else TARGET_MINUTES)
    args.window = args.window or (0.25 if args.quick else 10.0)
    if len(args.think) != 2 or args.think[0] > args.think[1]:
        parser.error("--think takes min,max")
    return args


def main() -> int:
    args = parse_args()
    run = BenchRun("soak", tag="soak", keep=args.keep)
    return run.execute(lambda: soak_run(args, run))


def soak_run(args, run: BenchRun) -> int:
    faults = None
    if args.faults:
        from soak_faults import Faults

        faults = Faults.start()
    try:
        return _soak_run(args, run, faults)
    finally:
        if faults is not None:
            run.processes.stop_all()  # before their servers go
            run.people = []  # their database goes with its server
            faults.stop(os.environ["MUSE_QUEUE"])


def _soak_run(args, run: BenchRun, faults) -> int:
    run.start(
        people=args.users, workers=args.workers, concurrency=args.concurrency,
        fake_options=["--first-token-delay", str(args.first_token_delay),
                      "--tokens", str(args.tokens), "--token-delay", str(args.token_delay)],
    )
    from django.conf import settings

    from museapp.ops.management.commands.serve import worker_command

    if faults is not None:
        run.setup = faults.describe()
    timeouts = {False: ANSWER_TIMEOUT, True: ANSWER_TIMEOUT + settings.MUSE_CONTEMPLATE_DEADLINE}
    duration = args.minutes * 60
    meter = CpuMeter(run.pids())

    async def go() -> tuple[Soak, dict[str, float], float]:
        started = time.monotonic()
        soak = Soak(args.users, started, started + duration, args.contemplate_share, faulted=faults is not None)
        tabs = [Tab(run.web_port, person, args.first_token_delay) for person in run.people]
        run.say(f"{args.users} people chat for {args.minutes:g} min")
        before = meter.sample()
        watcher = asyncio.ensure_future(watch(soak, run, min(60.0, max(15.0, duration / 4)), duration * WARM_UP_SHARE,
                                              args.window * 60, faults))
        people = [asyncio.ensure_future(chat(soak, tab, i, args, timeouts)) for i, tab in enumerate(tabs)]
        if faults is not None:
            from soak_faults import inflict

            def restarted_worker(generation: int) -> list[str]:
                return worker_command(args.concurrency, settings.CELERY_TASK_DEFAULT_QUEUE,
                                      f"{run.dir.name}-r{generation}")

            people.append(asyncio.ensure_future(
                inflict(faults, run, started, duration, args.kill_every * 60, restarted_worker)))
        try:
            await watcher
            if soak.in_flight:
                run.say(f"time is up; waiting for the answers in flight ({soak.in_flight})")
            for outcome in await asyncio.gather(*people, return_exceptions=True):
                if isinstance(outcome, Exception):
                    soak.problems[f"client: {_reason(outcome)}"] += 1
            take(soak, "idle", roles_of(run, faults))
            return soak, {k: v - before[k] for k, v in meter.sample().items()}, time.monotonic() - started
        finally:
            for task in (watcher, *people):
                task.cancel()
            await asyncio.gather(*(tab.close() for tab in tabs), return_exceptions=True)

    soak, cpu, wall = run_async(go())
    run.processes.check()
    audit, unfinished = "", 0
    if faults is not None:
        counts, unfinished = audit_answers(run.prefix)
        audit = ", ".join(f"{count} {status}" for status, count in sorted(counts.items()))
    return 0 if report(args, run, soak, settings, cpu, wall, faults.happened if faults else None, audit,
                       unfinished) else 1


if __name__ == "__main__":
    sys.exit(main())
