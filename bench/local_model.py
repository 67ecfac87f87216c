"""Throughput of the bundled offline model, through the same adapter the
worker uses (litellm -> muse-local custom provider -> llama.cpp slots).

Prints, for 1 request and for 4 at once: time to first token, tokens per
second per request, and aggregate tokens per second. Medians over --runs.

    .venv/bin/python bench/local_model.py [--tokens 200] [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.harness import parse_args  # noqa: E402
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "museapp.settings")
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from museapp.llm import local  # noqa: E402
from museapp.llm.adapter import ModelCall, StreamStats, stream_completion  # noqa: E402

PROMPT = "Write a long story about a lighthouse keeper and a storm."


async def one(tokens: int) -> dict:
    call = ModelCall(
        model=local.MODEL,
        messages=[{"role": "user", "content": PROMPT}],
        max_tokens=tokens,
        temperature=0.7,
        timeout=600,
    )
    stats = StreamStats()
    count = 0
    async for _ in stream_completion(call, stats):
        count += 1
    generating = (stats.ended_at - stats.first_token_at) if stats.first_token_at else 0
    return {
        "ttft_ms": stats.ttft_ms or 0.0,
        "tokens": stats.completion_tokens or count,
        "tok_s": (count - 1) / generating if generating > 0 and count > 1 else 0.0,
        "wall": stats.ended_at - stats.started,
    }


async def level(concurrency: int, tokens: int) -> dict:
    started = time.monotonic()
    results = await asyncio.gather(*(one(tokens) for _ in range(concurrency)))
    wall = time.monotonic() - started
    return {
        "ttft_ms": [r["ttft_ms"] for r in results],
        "per_request_tok_s": statistics.median(r["tok_s"] for r in results),
        "aggregate_tok_s": sum(r["tokens"] for r in results) / wall,
        "tokens": [r["tokens"] for r in results],
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tokens", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    args = parse_args(parser, tokens=16, runs=1)
    if not local.available():
        raise SystemExit("the offline model is not installed: run `make run` or `make test` once")

    slots = local.pool()
    started = time.monotonic()
    slots.warm(slots.size)
    print(f"loaded {slots.size} llama.cpp slots in {time.monotonic() - started:.2f} s "
          f"({os.cpu_count()} cores)")
    await one(8)  # litellm's first-call set-up

    rows = []
    for concurrency in (1, 4):
        runs = [await level(concurrency, args.tokens) for _ in range(args.runs)]
        rows.append((
            concurrency,
            statistics.median(statistics.median(r["ttft_ms"]) for r in runs),
            statistics.median(max(r["ttft_ms"]) for r in runs),
            statistics.median(r["per_request_tok_s"] for r in runs),
            statistics.median(r["aggregate_tok_s"] for r in runs),
        ))

    print(f"\n{args.tokens}-token answers, median of {args.runs} runs")
    print(f"{'at once':>8} {'TTFT p50':>10} {'TTFT max':>10} {'tok/s each':>11} {'tok/s total':>12}")
    for concurrency, ttft, ttft_max, each, total in rows:
        print(f"{concurrency:>8} {ttft:>8.0f}ms {ttft_max:>8.0f}ms {each:>11.1f} {total:>12.1f}")


if __name__ == "__main__":
    asyncio.run(main())
