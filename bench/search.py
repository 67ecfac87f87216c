#!/usr/bin/env python
"""Search at scale: one person with 100,000 messages across 2,000
conversations (and other people's messages beside them), searched through
the one search function (museapp/search) with a spread of queries: common,
middling and rare words, two words, a word being typed, a title, nothing
found. Prints p50/p95 per kind of query and overall, on the database it is
configured for (a fresh SQLite file, or DATABASE_URL). Target: p95 < 50 ms.

    .venv/bin/python bench/search.py [--conversations 2000] [--per 50] [--repeats 20]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/muse_bench .venv/bin/python bench/search.py
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import fmt, parse_args, percentile  # noqa: E402

COMMON = ("time people answer question think water light house music garden river coffee "
          "history number system market energy travel family money winter memory science").split()
FILLER = "the a of and to in is that it for on with as was at by this be or from".split()


def vocabulary(rng: random.Random, size: int) -> list[str]:
    """Made-up words for the long tail (a real text's rare words)."""
    syllables = [c + v for c in "bdfgklmnprstvz" for v in "aeiou"]
    words = {"".join(rng.choices(syllables, k=rng.randint(2, 4))) for _ in range(size * 2)}
    return sorted(words)[:size]


def text(rng: random.Random, tail: list[str], words: int) -> str:
    """Zipf-like: filler most, common words often, the tail rarely."""
    out = []
    for _ in range(words):
        roll = rng.random()
        out.append(rng.choice(FILLER) if roll < .45 else rng.choice(COMMON) if roll < .75 else
                   tail[min(int(rng.paretovariate(1.1)) - 1, len(tail) - 1)] if roll < .85 else rng.choice(tail))
    return " ".join(out).capitalize() + "."


def build(user, rng: random.Random, tail: list[str], conversations: int, per: int) -> None:
    from museapp.chat.models import Conversation, Message  # after django.setup()

    made = Conversation.objects.bulk_create(
        Conversation(user=user, title=text(rng, tail, rng.randint(2, 5))[:-1]) for _ in range(conversations))
    batch = []
    for conversation in made:
        for i in range(per):
            author = "assistant" if i % 2 else "user"
            words = rng.randint(40, 160) if author == "assistant" else rng.randint(6, 30)
            batch.append(Message(conversation=conversation, author=author, content=text(rng, tail, words)))
        if len(batch) >= 5000:
            Message.objects.bulk_create(batch)
            batch = []
    Message.objects.bulk_create(batch)


def queries(rng: random.Random, tail: list[str]) -> dict[str, list[str]]:
    head = tail[:50]  # the tail's most frequent words: middling
    return {
        "common word": rng.sample(COMMON, 10),
        "middling word": rng.sample(head, 10),
        "rare word": rng.sample(tail[-3000:], 10),
        "two words": [f"{a} {b}" for a, b in zip(rng.sample(COMMON, 10), rng.sample(head, 10))],
        "typing (prefix)": [word[:3] for word in rng.sample(COMMON, 10)],
        "nothing found": [f"zzq{i}xy" for i in range(10)],
    }


def measure(user, kinds: dict[str, list[str]], repeats: int) -> dict[str, list[float]]:
    from museapp.search.services import conversations_search  # after django.setup()

    timings: dict[str, list[float]] = {kind: [] for kind in kinds}
    for word in kinds["common word"]:
        conversations_search(user=user, text=word)  # warm: connection, caches
    for _ in range(repeats):
        for kind, texts in kinds.items():
            for query in texts:
                started = time.perf_counter()
                conversations_search(user=user, text=query)
                timings[kind].append((time.perf_counter() - started) * 1000)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--conversations", type=int, default=2000)
    parser.add_argument("--per", type=int, default=50, help="messages per conversation")
    parser.add_argument("--others", type=int, default=4, help="other people, each with a fifth as much")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="keep the people and messages made (to look at them)")
    args = parse_args(parser, conversations=100, per=10, repeats=1)
    if not os.environ.get("DATABASE_URL"):
        os.environ["MUSE_DATA_DIR"] = tempfile.mkdtemp(prefix="search-", dir=os.environ.get("MUSE_DATA_DIR"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "museapp.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", interactive=False, verbosity=0)
    rng = random.Random(22)
    tail = vocabulary(rng, 20_000)
    stamp = time.time_ns()
    people = [get_user_model().objects.create_user(username=f"bench-search-{stamp}-{i}", password="x")
              for i in range(args.others + 1)]
    started = time.perf_counter()
    for _ in range(10):  # in turns, as people chat at once: their messages interleave
        build(people[0], rng, tail, args.conversations // 10, args.per)
        for other in people[1:]:
            build(other, rng, tail, args.conversations // 50, args.per)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    total = args.conversations * args.per * (1 + args.others / 5)
    print(f"{connection.vendor}: {total:,.0f} messages built in {time.perf_counter() - started:.0f} s; "
          f"searching one person's {args.conversations * args.per:,} in {args.conversations:,} conversations")
    try:
        timings = measure(people[0], queries(rng, tail), args.repeats)
        for kind, values in timings.items():
            print(f"  {kind:<16} p50 {fmt(percentile(values, 50))} ms  p95 {fmt(percentile(values, 95))} ms")
        every = [value for values in timings.values() for value in values]
        print(f"  {'all':<16} p50 {fmt(percentile(every, 50))} ms  p95 {fmt(percentile(every, 95))} ms "
              f"(n={len(every)}; target p95 < 50 ms)")
    finally:
        if args.keep:
            print(f"kept: {connection.settings_dict['NAME']}, people bench-search-{stamp}-*")
        else:
            for person in people:
                person.delete()


if __name__ == "__main__":
    main()
