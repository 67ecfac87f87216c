#!/usr/bin/env python
"""The analysts' export with 100,000 rated answers: time, queries and peak
memory of the download, streamed as Muse serves it now versus read whole
first (what Django's ASGI handler does with a plain iterator, as it did with
the export before). Prints figures; not a test.

Seeds a fresh database (SQLite in a temporary MUSE_DATA_DIR unless
DATABASE_URL is set) with N rated answers to N questions: a third of them
contemplated (4 drafts and a merge), half of those with a best-draft pick,
a quarter compared blind; 70 % thumbs up, 10 % with reasons and a comment.
Then, for the rows and the pairs (CSV), each in a process of its own forked
from the seeded one, it consumes the download's response as the ASGI handler
does (`async for part in response`) and prints the time to the first part,
the total time, the queries, the bytes sent and how much the process's
resident memory grew at its peak (ru_maxrss minus the RSS it started with).
Without a connection pool (MUSE_DB_POOL=false): a pool's threads and
sockets do not survive a fork.

    .venv/bin/python bench/export_memory.py [--ratings 100000] [--streamed-only]
"""

from __future__ import annotations

import argparse
import gc
import multiprocessing
import os
import random
import resource
import sys
import tempfile
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.harness import parse_args  # noqa: E402

FILLER = "Some words of an answer, long enough to look like one. "


def seed(n: int, rng: random.Random) -> object:
    """n rated answers of every kind the export reads; returns their person."""
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from museapp.agents.models import AgentRun, Comparison, Contemplation
    from museapp.chat.models import Conversation, Message
    from museapp.feedback.models import BestDraftPick, Rating

    person = get_user_model().objects.create_user(username=f"export-bench-{time.time_ns()}", password="x")
    with transaction.atomic():
        conversation = Conversation.objects.create(user=person)
        for offset in range(0, n, 5000):
            ids = range(offset, min(n, offset + 5000))
            questions = Message.objects.bulk_create(
                Message(conversation=conversation, author="user", content=f"Question {i}: " + FILLER) for i in ids)
            answers = Message.objects.bulk_create(
                Message(conversation=conversation, author="assistant", parent=q, model="openai/fake-model",
                        content=f"Answer {q.pk}. " + FILLER * 16, prompt_tokens=100, completion_tokens=300,
                        total_ms=rng.uniform(500, 9000)) for q in questions)
            Rating.objects.bulk_create(
                Rating(user=person, message=a, value=1 if rng.random() < 0.7 else -1,
                       **({"reasons": ["helpful"], "comment": "=said something"} if rng.random() < 0.1 else {}))
                for a in answers)
            contemplations = Contemplation.objects.bulk_create(
                Contemplation(message=a, strategy="vote", strategy_used="vote", agent_count=4, deadline_s=60,
                              status="done", relied_on=[0, 1]) for a in answers if a.pk % 3 == 0)
            runs = AgentRun.objects.bulk_create(
                AgentRun(contemplation=c, kind=kind, index=i, role="r", model=f"model-{i}", status="done",
                         text=f"Draft {i} of {c.pk}. " + FILLER * 10)
                for c in contemplations for kind, i in [("agent", 0), ("agent", 1), ("agent", 2), ("agent", 3),
                                                        ("merge", 0), ("quick", 0)])
            BestDraftPick.objects.bulk_create(BestDraftPick(user=person, message=c.message, run=runs[6 * k + 2])
                                              for k, c in enumerate(contemplations) if k % 2)
            Comparison.objects.bulk_create(
                Comparison(contemplation=c, quick_run=runs[6 * k + 5], contemplated_position=1 + k % 2,
                           choice="quick" if k % 8 < 3 else "contemplated")
                for k, c in enumerate(contemplations) if k % 4 == 0)
    return person


async def consume(response, started: float) -> tuple[float, int]:
    """Read the response as Django's ASGI handler does; the time to the first
    part (ms) and the bytes."""
    first, size = None, 0
    async for part in response:
        if first is None:
            first = (time.perf_counter() - started) * 1000
        size += len(part)
    return first or 0.0, size


def download(*, pairs: bool, streamed: bool) -> dict:
    from asgiref.sync import async_to_sync
    from django.db import connection
    from django.http import StreamingHttpResponse
    from django.test.utils import CaptureQueriesContext

    from museapp.feedback.export import export_lines, export_parts

    parts = export_parts if streamed else export_lines
    with CaptureQueriesContext(connection) as queries, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Django warns that it reads a plain iterator whole: that is what is measured
        started = time.perf_counter()
        response = StreamingHttpResponse(parts(fmt="csv", pairs=pairs), content_type="text/csv")
        first_ms, size = async_to_sync(consume)(response, started)
        total_s = time.perf_counter() - started
    return {"first_ms": first_ms, "total_s": total_s, "queries": len(queries), "bytes": size}


def resident_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def download_in_child(results, *, pairs: bool, streamed: bool) -> None:
    started_with = resident_mb()
    figures = download(pairs=pairs, streamed=streamed)
    # A forked child's ru_maxrss counts its own pages only, from the fork on.
    figures["growth_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - started_with
    results.put(figures)


def in_child(work, **kwargs):
    """``work(results, **kwargs)``'s result, run in a child forked from this
    process, which stays small: each download starts from the same memory,
    with no free heap left over from seeding or another download to hide its
    growth, and none inherits another's peak."""
    from django.db import connections

    connections.close_all()  # a connection must not cross a fork
    gc.collect()
    fork = multiprocessing.get_context("fork")
    results = fork.Queue()
    child = fork.Process(target=work, args=(results,), kwargs=kwargs)
    child.start()
    result = results.get()
    child.join()
    return result


def seed_in_child(results, *, n: int) -> None:
    results.put(seed(n, random.Random(7)).pk)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ratings", type=int, default=100_000)
    parser.add_argument("--streamed-only", action="store_true", help="skip the downloads read whole first")
    parser.add_argument("--keep", action="store_true", help="keep the seeded rows (with DATABASE_URL)")
    args = parse_args(parser, ratings=2000)
    if not os.environ.get("DATABASE_URL"):
        os.environ["MUSE_DATA_DIR"] = tempfile.mkdtemp(prefix="export-", dir=os.environ.get("MUSE_DATA_DIR"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "museapp.settings")
    os.environ["MUSE_DB_POOL"] = "false"
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", interactive=False, verbosity=0)
    started = time.perf_counter()
    person_id = in_child(seed_in_child, n=args.ratings)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    print(f"seeded {args.ratings:,} rated answers in {time.perf_counter() - started:.0f} s ({connection.vendor})",
          flush=True)
    print(f"{'export':<6} {'served':<9} {'first part':>11} {'total':>8} {'queries':>8} {'MB sent':>8} "
          f"{'RSS growth MB':>14}")
    for pairs in (False, True):
        for streamed in (True,) if args.streamed_only else (True, False):
            figures = in_child(download_in_child, pairs=pairs, streamed=streamed)
            print(f"{'pairs' if pairs else 'rows':<6} {'streamed' if streamed else 'whole':<9} "
                  f"{figures['first_ms']:>8.0f} ms {figures['total_s']:>6.1f} s {figures['queries']:>8} "
                  f"{figures['bytes'] / 2**20:>8.1f} {figures['growth_mb']:>14.1f}", flush=True)
    if os.environ.get("DATABASE_URL") and not args.keep:
        get_user_model().objects.filter(pk=person_id).delete()


if __name__ == "__main__":
    main()
