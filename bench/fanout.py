#!/usr/bin/env python
"""Contemplation fan-out: is the parallel part really parallel?

With the app run as in production (uvicorn + Celery workers + Redis, each its
own process) and the fake model answering every call with the same number of
tokens at a fixed per-token delay, a person contemplates with N agents. For
N = 1, 2, 4, 8 it prints

    ratio = wall time (send -> final answer) / (one agent's time + the merge's time)

where the two times are the saved rows' own durations (an agent's median and
the merge's). A serial fan-out would give about N; targets: <= 1.08 at N = 4,
<= 1.15 at N = 8. Then K = 10, 25, 50 people contemplate at once with N = 4:
the same ratio (median and p95) and the p95 gap between frames a client
receives while its answer is being produced.

    .venv/bin/python bench/fanout.py            # full run
    .venv/bin/python bench/fanout.py --quick    # smaller (N = 1, 4; K = 10)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import signal
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import websockets

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness import (  # noqa: E402 - the shared process and people helpers
    Processes,
    configure_environment,
    create_people,
    delete_people,
    fmt,
    percentile,
    wait_for_port,
    wait_for_workers,
)

from tests.fakellm import free_port  # noqa: E402

DONE = re.compile(r'data-author="assistant" data-status="(done|error|stopped)"')
TARGETS = {4: 1.08, 8: 1.15}


@dataclass
class Contemplated:
    person_id: int
    sent: float = 0.0
    finished: float | None = None
    status: str = "lost"
    frame_times: list[float] = field(default_factory=list)
    message_id: int | None = None

    @property
    def wall_ms(self) -> float | None:
        return None if self.finished is None else (self.finished - self.sent) * 1000

    def gaps_ms(self) -> list[float]:
        times = self.frame_times
        return [(b - a) * 1000 for a, b in zip(times, times[1:])]


async def contemplate(port: int, person, question: str, timeout: float) -> Contemplated:
    result = Contemplated(person.user_id)
    headers = {"Cookie": f"sessionid={person.session_key}", "Origin": f"http://127.0.0.1:{port}"}
    url = f"ws://127.0.0.1:{port}/ws/chat/{person.conversation_id}/"
    async with websockets.connect(url, additional_headers=headers, max_size=None) as socket:
        # The page's first frames bring it up to date; let them pass.
        try:
            while True:
                await asyncio.wait_for(socket.recv(), timeout=0.2)
        except asyncio.TimeoutError:
            pass
        result.sent = time.perf_counter()
        await socket.send(f'{{"action": "send", "message": "{question}", "contemplate": "on", '
                          f'"strategy": "synthesize", "client_id": "b{person.user_id}"}}')
        deadline = result.sent + timeout
        while time.perf_counter() < deadline:
            try:
                frame = await asyncio.wait_for(socket.recv(), timeout=deadline - time.perf_counter())
            except asyncio.TimeoutError:
                break
            now = time.perf_counter()
            if "-body\" hx-swap-oob=\"beforeend\"" in frame:
                result.frame_times.append(now)
            found = DONE.search(frame)
            if found:
                result.finished, result.status = now, found.group(1)
                message = re.search(r'data-message-id="(\d+)" data-author="assistant"', frame)
                result.message_id = int(message.group(1)) if message else None
                break
    return result


def saved_durations(message_ids: list[int]) -> list[tuple[float, float]]:
    """(median agent total_ms, merge total_ms) for each contemplated answer."""
    from museapp.agents.models import AgentRun

    out = []
    for message_id in message_ids:
        runs = list(AgentRun.objects.filter(contemplation__message_id=message_id))
        agents = [r.total_ms for r in runs if r.kind == "agent" and r.total_ms]
        merges = [r.total_ms for r in runs if r.kind == "merge" and r.total_ms]
        if agents and merges:
            out.append((statistics.median(agents), merges[0]))
    return out


def ratios(results: list[Contemplated]) -> list[float]:
    done = [r for r in results if r.status == "done" and r.message_id]
    durations = dict(zip([r.message_id for r in done], saved_durations([r.message_id for r in done])))
    return [r.wall_ms / sum(durations[r.message_id]) for r in done if r.message_id in durations]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--tokens", type=int, default=200)
    parser.add_argument("--token-delay", type=float, default=0.01)
    parser.add_argument("--repeats", type=int, default=None, help="contemplations per N (default 5; quick 2)")
    parser.add_argument("--workers", type=int, default=int(os.environ.get("MUSE_WORKERS", "2")))
    parser.add_argument("--concurrency", type=int, default=int(os.environ.get("MUSE_WORKER_CONCURRENCY", "128")))
    parser.add_argument("--agents", type=lambda s: [int(x) for x in s.split(",")], default=None)
    parser.add_argument("--k", type=lambda s: [int(x) for x in s.split(",")], default=None)
    args = parser.parse_args()
    args.repeats = args.repeats or (2 if args.quick else 5)
    args.agents = args.agents or ([1, 4] if args.quick else [1, 2, 4, 8])
    args.k = [k for k in args.k if k > 0] if args.k is not None else ([10] if args.quick else [10, 25, 50])
    return args


def start_workers(processes: Processes, args, run_dir: Path, settings) -> list:
    from museapp.ops.management.commands.serve import worker_command

    workers = [
        processes.spawn(f"worker{i}", worker_command(args.concurrency, settings.CELERY_TASK_DEFAULT_QUEUE,
                                                     f"{run_dir.name}-{i}"))
        for i in range(args.workers)
    ]
    wait_for_workers(processes, args.workers)
    return workers


def stop(processes: Processes, names: list[str]) -> None:
    for name in names:
        process = processes.children.pop(name)
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)


def main() -> int:
    args = parse_args()
    signal.signal(signal.SIGINT, signal.default_int_handler)
    base = Path(os.environ.get("MUSE_DATA_DIR") or tempfile.gettempdir())
    base.mkdir(parents=True, exist_ok=True)
    run_dir = Path(tempfile.mkdtemp(prefix="fanout-", dir=base)).resolve()
    fake_port = free_port()
    configure_environment(run_dir, fake_port)
    processes = Processes(run_dir)
    prefix = f"fanout-{run_dir.name}"
    people = []
    try:
        import django

        django.setup()
        from django.conf import settings
        from django.core.management import call_command
        from django.db import connections

        from museapp.ops import embedded_redis
        from museapp.ops.management.commands.serve import web_command

        if settings.EMBEDDED_REDIS:
            processes.redis = embedded_redis.from_settings()
            processes.redis.start()
        call_command("migrate", interactive=False, verbosity=0)
        fake = processes.spawn("fake", [sys.executable, "-m", "tests.fakellm", "--port", str(fake_port),
                                        "--tokens", str(args.tokens), "--token-delay", str(args.token_delay)])
        wait_for_port(fake_port, fake, "fake model")
        people = create_people(max([1, *args.k, args.repeats]), prefix)
        connections.close_all()
        print(f"[fanout] {args.workers} worker(s) x {args.concurrency} threads; every call: "
              f"{args.tokens} tokens x {args.token_delay * 1000:.0f} ms", flush=True)

        start_workers(processes, args, run_dir, settings)
        rows = []
        for agents in sorted(set(args.agents + ([4] if args.k else []))):
            # Agents per contemplation is read by the web process at send time.
            os.environ["MUSE_AGENTS"] = str(agents)
            web_port = free_port()
            web = processes.spawn(f"web{agents}", web_command("127.0.0.1", web_port))
            wait_for_port(web_port, web, "web")

            async def one_at_a_time(port=web_port) -> list[Contemplated]:
                results = []
                for i in range(args.repeats):
                    results.append(await contemplate(port, people[i], f"Question {agents}-{i}?", 120))
                return results

            if agents in args.agents:
                results = asyncio.run(one_at_a_time())
                r = ratios(results)
                rows.append(("N", agents, 1, r, results))
                print(f"[fanout] N={agents}: ratio median {fmt(statistics.median(r) if r else None, 3)}", flush=True)
            if agents == 4:
                for k in args.k:
                    async def crowd(port=web_port, k=k) -> list[Contemplated]:
                        return await asyncio.gather(*(contemplate(port, p, f"Crowd {k}?", 180) for p in people[:k]))

                    results = asyncio.run(crowd())
                    r = ratios(results)
                    rows.append(("K", 4, k, r, results))
                    print(f"[fanout] K={k}: ratio median {fmt(statistics.median(r) if r else None, 3)}", flush=True)
            stop(processes, [f"web{agents}"])

        print(f"\nFan-out ({args.workers} worker processes x {args.concurrency} threads; "
              f"{args.tokens} tokens x {args.token_delay * 1000:.0f} ms per call; synthesize merge)")
        print(f"{'':>3} {'agents':>6} {'people':>6} {'ratio p50':>10} {'ratio p95':>10} {'frame gap p95':>14} "
              f"{'done/sent':>10} {'target':>8}")
        for kind, agents, k, r, results in rows:
            gaps = [g for res in results for g in res.gaps_ms()]
            done = sum(1 for res in results if res.status == "done")
            target = TARGETS.get(agents) if kind == "N" else None
            p50 = statistics.median(r) if r else None
            verdict = "" if target is None else ("ok" if p50 is not None and p50 <= target else "MISS")
            print(f"{kind:>3} {agents:>6} {k:>6} {fmt(p50, 3):>10} {fmt(percentile(r, 95), 3):>10} "
                  f"{fmt(percentile(gaps, 95), 0):>12}ms {done:>4}/{len(results):<5} "
                  f"{('<= ' + str(target)) if target else '':>8} {verdict}")
        return 0
    except KeyboardInterrupt:
        print("\n[fanout] interrupted")
        return 130
    finally:
        try:
            if people:
                delete_people(prefix, people)
        except Exception:  # noqa: BLE001
            pass
        processes.stop_all()


if __name__ == "__main__":
    raise SystemExit(main())
