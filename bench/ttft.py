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
import os
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import (  # noqa: E402 - the shared start-up, clients and readings
    ANSWER_TIMEOUT,
    MODEL,
    Answer,
    BenchRun,
    ChatSocket,
    CpuMeter,
    Person,
    close_all,
    connect_all,
    fmt,
    percentile,
    run_async,
)

# The targets, in ms, for the default (full) levels.
TARGET_FIRST_MS = 100
TARGET_SEQUENTIAL = {"p50": 25, "p95": 40}
TARGET_CONCURRENT_P95 = {50: 750, 200: 3000}


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

    from museapp.streams import events
    from museapp.streams.names import Stream
    from museapp.llm.adapter import StreamStats, stream_completion
    from museapp.llm.config import model_call, system_prompt

    result: dict[str, float] = {}
    messages = [
        {"role": "system", "content": system_prompt(MODEL)},
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
    from museapp.streams.publisher import FramePublisher

    stream = Stream.answer(2**62)
    publisher = FramePublisher(2**62, stream)  # a conversation nobody watches
    group = publisher.group
    layer = get_channel_layer()
    event = events.tokens(stream, "tok1 tok2 ", "tok1 tok2 ", 1, 2, 10.0)
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
        from museapp.streams import livetext

        await livetext.clear(publisher.stream)
    except (ImportError, AttributeError):
        pass
    return result


def web_breakdown(person: Person, repeats: int = 30) -> dict[str, tuple[float, float]]:
    """Wall and CPU ms of this process for each step the web process takes
    per message, alone: what K simultaneous messages queue behind, since the
    consumer runs every ORM call on one thread (database_sync_to_async)."""
    from django.db import close_old_connections, connection

    from asgiref.sync import async_to_sync

    from museapp.celery import ping
    from museapp.streams import running
    from museapp.turns import services
    from museapp.web import frames
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
        # Let the next turn start: the answer ends (a conversation takes one at a time)
        # and gives its person's slot back (MUSE_MAX_RUNNING_ANSWERS).
        answer = turns[-1].answer
        Message.objects.filter(pk=answer.pk).update(status=Message.Status.DONE)
        async_to_sync(running.release)(owner_id=person.user_id, stream=answer.stream)
        close_old_connections()

    result = {
        "DB connection open + close": timed(connect),
        "turn_start: transaction (+ connection, + answer reset)": timed(turn_start),
    }
    turn = turns[-1]
    result["turn frame render"] = timed(
        lambda: frames.turn_for_sender([turn.user_message, turn.answer], "abc", conversation, title_changed=False)
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
    print(f"Muse TTFT overhead: {setup}; {args.workers} worker process(es) x {args.concurrency} threads, "
          f"{args.web_processes} web process(es)")
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
    parser.add_argument("--web-processes", type=int, default=1, help="uvicorn processes on the web port (default 1)")
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


def main() -> int:
    args = parse_args()
    run = BenchRun("ttft", tag="bench", keep=args.keep)
    return run.execute(lambda: measure(args, run))


def measure(args, run: BenchRun) -> int:
    run.start(
        people=max([1, *args.k]), workers=args.workers, concurrency=args.concurrency, web_processes=args.web_processes,
        fake_options=["--first-token-delay", str(args.first_token_delay),
                      "--tokens", str(args.tokens), "--token-delay", str(args.token_delay)],
    )
    web_port, people = run.web_port, run.people
    meter = CpuMeter(run.pids())
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
            run.processes.check()
            phase = await run_concurrent(web_port, people[:k], delay, args.rounds, meter)
            phases.append(phase)
            _progress(phase)
        return first

    first = run_async(measure())
    run.processes.check()
    for phase in phases:
        read_model_times(phase.answers, delay)
    read_model_times([first], delay)
    report(args, run.setup, first, phases)
    missing = [p.name for p in phases if not p.overheads] + ([] if first.overhead_ms is not None else ["first"])
    if not args.no_breakdown:
        # These reach into the app's internals, which change: a failure
        # here must not cost the figures above, but it fails the run.
        try:
            breakdown = asyncio.run(cpu_breakdown(f"http://127.0.0.1:{run.fake_port}/v1", args.tokens))
            report_worker_steps(args, phases, breakdown)
        except Exception as exc:  # noqa: BLE001
            print(f"\n(worker steps not timed: {type(exc).__name__}: {exc})")
            missing.append("worker steps")
        try:
            report_web_steps(web_breakdown(people[0]))
        except Exception as exc:  # noqa: BLE001
            print(f"\n(web steps not timed: {type(exc).__name__}: {exc})")
            missing.append("web steps")
    if missing:
        print(f"\nFAILED: no figures for {', '.join(missing)}")
    return 1 if missing else 0


def _progress(phase: Phase) -> None:
    print(
        f"[bench] {phase.name}: p50 {fmt(percentile(phase.overheads, 50))} ms, "
        f"p95 {fmt(percentile(phase.overheads, 95))} ms, lost {phase.count('lost')}, "
        f"{phase.wall:.1f} s",
        flush=True,
    )


if __name__ == "__main__":
    sys.exit(main())
