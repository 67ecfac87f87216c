#!/usr/bin/env python
"""Capacity: what one frame and one turn cost the stream Redis, the worker
and the web process, and how many frames one stream Redis server sustains,
measured on this machine; the README's capacity model is built from these.

1. **Turns** on a running Muse (bench/harness.py: the fake model, a worker, a
   web process), with its stream state on a Redis server of its own
   (``STREAM_REDIS_URLS``), so that server's ``INFO commandstats`` and byte
   counters hold stream state and nothing else (the broker is elsewhere).
   People ask one after the other, each answer streaming to one tab. From
   the counters: Redis commands and bytes per turn and per frame; from the
   processes' CPU: worker CPU per chunk, web CPU per frame.
2. **One shard's ceiling**, with Muse's own publisher
   (``museapp.streams.publisher.FramePublisher``: each frame recorded in the
   live text, then published to the conversation's group) driving many
   streams at once against one Redis server with one subscriber reading
   every group, as a web process does. Python runs out of CPU long before
   Redis does on this machine, so the ceiling is Redis's own CPU per frame
   (``used_cpu_user + used_cpu_sys``) taken to one full core.

    .venv/bin/python bench/capacity.py           # 60 turns, 10 s of publishing
    .venv/bin/python bench/capacity.py --quick   # 12 turns, 3 s
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import BenchRun, ChatSocket, CpuMeter, parse_args, run_async  # noqa: E402

FRAME_TEXT = "tok12 tok13 tok14 tok15 tok16 tok17 tok18 tok19 "  # about what a 40 ms frame carries at 200 tokens/s


def redis_counters(url: str) -> dict[str, float]:
    """Commands by name, bytes in and out, and CPU seconds of one Redis server."""
    from redis import Redis

    client = Redis.from_url(url)
    counters = {f"cmd:{name.removeprefix('cmdstat_')}": float(stats["calls"])
                for name, stats in client.info("commandstats").items()}
    stats, cpu = client.info("stats"), client.info("cpu")
    counters["bytes in"] = float(stats["total_net_input_bytes"])
    counters["bytes out"] = float(stats["total_net_output_bytes"])
    counters["cpu"] = float(cpu["used_cpu_user"]) + float(cpu["used_cpu_sys"])
    client.close()
    return counters


def delta(after: dict[str, float], before: dict[str, float]) -> dict[str, float]:
    return {key: value - before.get(key, 0.0) for key, value in after.items() if value - before.get(key, 0.0)}


# --- 1. turns on a running Muse ---------------------------------------------------


async def ask_in_turn(run: BenchRun, turns: int, delay: float) -> tuple[int, int]:
    """People ask one after the other; returns (answers done, token frames received)."""
    sockets = [ChatSocket(run.web_port, person, delay) for person in run.people]
    for sock in sockets:
        await sock.connect()
    done = frames = 0
    try:
        for turn in range(turns):
            answer = await sockets[turn % len(sockets)].ask(f"capacity question {turn}")
            done += answer.status == "done"
            frames += len(answer.token_frames)
    finally:
        for sock in sockets:
            await sock.close()
    return done, frames


def measure_turns(args, run: BenchRun, stream_url: str) -> dict:
    run.start(people=3, workers=1, concurrency=32,
              fake_options=["--first-token-delay", "0.05", "--tokens", str(args.tokens), "--token-delay", "0.005"])
    meter = CpuMeter(run.pids())
    run_async(ask_in_turn(run, 3, 0.05))  # warm: first calls, connections
    before, cpu_before = redis_counters(stream_url), meter.sample()
    done, frames = run_async(ask_in_turn(run, args.turns, 0.05))
    used, cpu = delta(redis_counters(stream_url), before), delta(meter.sample(), cpu_before)
    # The fake model streams exactly --tokens chunks per answer.
    return {"turns": args.turns, "done": done, "frames": frames, "tokens": args.tokens * done, "redis": used,
            "cpu": cpu}


# --- 2. one shard's ceiling ---------------------------------------------------------


async def publish_for(seconds: float, streams: int, stream_url: str) -> tuple[int, dict[str, float]]:
    """``streams`` FramePublishers publishing as fast as they can for
    ``seconds`` (frame by frame: flush after each add), with one subscriber
    reading every conversation's group. Returns frames published and the
    Redis server's counters over that time."""
    from redis.asyncio import Redis

    from museapp.streams.names import Stream, conversation_group
    from museapp.streams.publisher import FramePublisher

    layer_prefix = os.environ["MUSE_REDIS_PREFIX"]
    subscriber = Redis.from_url(stream_url).pubsub()
    await subscriber.psubscribe(f"{layer_prefix}__group__{conversation_group(0)[:-1]}*")
    received = 0

    async def read() -> None:
        nonlocal received
        while True:
            if await subscriber.get_message(ignore_subscribe_messages=True, timeout=1.0):
                received += 1

    reader = asyncio.ensure_future(read())
    publishers = [FramePublisher(1_000_000 + i, Stream.agent(1_000_000 + i)) for i in range(streams)]
    stop_at = time.monotonic() + seconds
    published = 0

    async def drive(publisher: FramePublisher) -> None:
        nonlocal published
        while time.monotonic() < stop_at:
            await publisher.add(FRAME_TEXT)
            await publisher.flush()
            published += 1

    before = redis_counters(stream_url)
    await asyncio.gather(*(drive(p) for p in publishers))
    used = delta(redis_counters(stream_url), before)
    await asyncio.sleep(0.5)
    reader.cancel()
    await subscriber.aclose()
    used["received"] = received
    return published, used


# --- report ------------------------------------------------------------------------------


def report(turns: dict, ceiling: tuple[int, dict[str, float]], seconds: float, streams: int) -> None:
    used, frames, count = turns["redis"], turns["frames"], turns["turns"]
    # INFO is this script's own reading; HELLO and CLIENT are connections being set up.
    commands = {k.removeprefix("cmd:"): v for k, v in used.items()
                if k.startswith("cmd:") and k not in ("cmd:info", "cmd:hello", "cmd:client")}
    total = sum(commands.values())
    print(f"\n1. {count} turns one after another ({turns['done']} done), {turns['tokens'] / count:.0f} tokens and "
          f"{frames / count:.1f} token frames per answer, each answer shown in one tab")
    print(f"stream Redis per turn: {total / count:.1f} commands, {used.get('bytes in', 0) / count / 1024:.1f} kB in, "
          f"{used.get('bytes out', 0) / count / 1024:.1f} kB out (its CPU per frame: part 2)")
    for name, calls in sorted(commands.items(), key=lambda item: -item[1]):
        print(f"  {name:<12}{calls / count:>8.2f} per turn")
    cpu = turns["cpu"]
    print(f"worker CPU: {cpu.get('worker', 0) / turns['tokens'] * 1000:.2f} ms per chunk (token); web CPU: "
          f"{cpu.get('web', 0) / max(frames, 1) * 1000:.2f} ms per frame shown ({cpu.get('web', 0) / count * 1000:.1f} "
          f"ms per turn with its frames)")

    published, shard = ceiling
    per_frame_cmds = sum(v for k, v in shard.items() if k.startswith("cmd:") and k != "cmd:info") / max(published, 1)
    cpu_us = shard.get("cpu", 0) / max(published, 1) * 1e6
    print(f"\n2. one stream Redis server, Muse's publisher: {streams} streams for {seconds:g} s published "
          f"{published} frames ({published / seconds:.0f}/s, limited by this Python process), "
          f"the subscriber read {shard['received']:.0f}")
    print(f"per frame: {per_frame_cmds:.2f} commands, {shard.get('bytes in', 0) / max(published, 1):.0f} B in, "
          f"{shard.get('bytes out', 0) / max(published, 1):.0f} B out, {cpu_us:.1f} us of Redis CPU")
    print(f"one shard's ceiling: about {1e6 / cpu_us:,.0f} frames/s at one full core of Redis "
          f"({0.7e6 / cpu_us:,.0f}/s at 70 %)" if cpu_us else "one shard's ceiling: - (no Redis CPU measured)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--turns", type=int, default=60, help="turns on the running Muse (default 60)")
    parser.add_argument("--tokens", type=int, default=200, help="tokens per answer (default 200)")
    parser.add_argument("--seconds", type=float, default=10.0, help="seconds of publishing (default 10)")
    parser.add_argument("--streams", type=int, default=200, help="streams publishing at once (default 200)")
    args = parse_args(parser, turns=12, seconds=3.0, streams=50)

    from museapp.ops.embedded_redis import EmbeddedRedis

    run = BenchRun("capacity", tag="capacity")
    stream_server = EmbeddedRedis(run.dir / "streams.sock", run.dir)
    stream_server.start()
    stream_url = f"unix://{stream_server.socket_path}"
    os.environ["STREAM_REDIS_URLS"] = stream_url

    def body() -> int:
        try:
            turns = measure_turns(args, run, stream_url)
            run.processes.stop_all()
            ceiling = run_async(publish_for(args.seconds, args.streams, stream_url))
        finally:
            stream_server.stop()
        report(turns, ceiling, args.seconds, args.streams)
        return 0 if turns["done"] == args.turns and ceiling[0] else 1

    return run.execute(body)


if __name__ == "__main__":
    sys.exit(main())
