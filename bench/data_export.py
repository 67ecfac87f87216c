#!/usr/bin/env python
"""Download my data for a person with many conversations: time, queries and
peak memory of the streamed file, read as Muse's ASGI server sends it; and
one conversation's JSON and Markdown exports. Prints figures; not a test.

Seeds a fresh database (SQLite in a temporary MUSE_DATA_DIR unless
DATABASE_URL is set) with one person's N conversations of M messages each
(questions and answers in one line, with usage and timings; every tenth
answer contemplated with 4 drafts, a merge and a quick answer; every fifth
answer rated), then, in a process forked from the seeded one (see
bench/export_memory.py, whose measuring it reuses), consumes the download
part by part and prints the time to the first part, the total, the queries,
the bytes and how much the process's resident memory grew at its peak.

    .venv/bin/python bench/data_export.py [--conversations 2000] [--messages 50]
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.harness import parse_args  # noqa: E402

from export_memory import FILLER, consume, in_child, resident_mb  # noqa: E402 - bench/ is this script's folder


def seed_conversation(person, n_messages: int, k: int, rng: random.Random) -> None:
    from museapp.agents.models import AgentRun, Contemplation
    from museapp.chat.models import Conversation, Message
    from museapp.feedback.models import Rating

    conversation = Conversation.objects.create(user=person, title=f"Conversation {k}")
    messages = Message.objects.bulk_create(
        Message(conversation=conversation, author="assistant" if i % 2 else "user", status="done",
                content=(f"Answer {i}. " + FILLER * 8) if i % 2 else f"Question {i}: " + FILLER,
                **({"model": "openai/fake-model", "prompt_tokens": 100, "completion_tokens": 300, "cost": "0.0003",
                    "ttft_ms": rng.uniform(100, 900), "total_ms": rng.uniform(500, 9000)} if i % 2 else {}))
        for i in range(n_messages))
    for parent, message in zip(messages, messages[1:]):
        message.parent = parent
    Message.objects.bulk_update(messages[1:], ["parent"])
    answers = messages[1::2]
    contemplations = Contemplation.objects.bulk_create(
        Contemplation(message=a, strategy="vote", strategy_used="vote", agent_count=4, deadline_s=60, status="done",
                      relied_on=[0, 1]) for a in answers[::10])
    AgentRun.objects.bulk_create(
        AgentRun(contemplation=c, kind=kind, index=i, role="r", model=f"model-{i}", status="done",
                 text=f"Draft {i}. " + FILLER * 6)
        for c in contemplations for kind, i in [("agent", 0), ("agent", 1), ("agent", 2), ("agent", 3),
                                                ("merge", 0), ("quick", 0)])
    Rating.objects.bulk_create(Rating(user=person, message=a, value=1) for a in answers[::5])


def seed_in_child(results, *, conversations: int, messages: int) -> None:
    from django.contrib.auth import get_user_model
    from django.db import transaction

    rng = random.Random(7)
    person = get_user_model().objects.create_user(username=f"data-bench-{time.time_ns()}", password="x")
    with transaction.atomic():
        for k in range(conversations):
            seed_conversation(person, messages, k, rng)
    results.put(person.pk)


def download_in_child(results, *, person_id: int, what: str) -> None:
    from asgiref.sync import async_to_sync
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.http import StreamingHttpResponse
    from django.test.utils import CaptureQueriesContext

    from museapp.chat.models import Conversation
    from museapp.exports.my_data import CONVERSATIONS_PER_BATCH, my_data_lines
    from museapp.exports.services import conversation_download
    from museapp.ops.streaming import in_parts

    person = get_user_model().objects.get(pk=person_id)
    started_with = resident_mb()
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        if what == "my data":  # as the view serves it under ASGI
            parts = in_parts(my_data_lines(user=person), per_part=CONVERSATIONS_PER_BATCH // 5)
            first_ms, size = async_to_sync(consume)(StreamingHttpResponse(parts), started)
        else:
            conversation = Conversation.objects.filter(user=person).first()
            size = len(conversation_download(conversation=conversation, fmt=what).body.encode())
            first_ms = (time.perf_counter() - started) * 1000
        total_s = time.perf_counter() - started
    growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - started_with
    results.put({"first_ms": first_ms, "total_s": total_s, "queries": len(queries), "bytes": size,
                 "growth_mb": growth})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--conversations", type=int, default=2000)
    parser.add_argument("--messages", type=int, default=50)
    parser.add_argument("--keep", action="store_true", help="keep the seeded rows (with DATABASE_URL)")
    args = parse_args(parser, conversations=20, messages=10)
    if not os.environ.get("DATABASE_URL"):
        os.environ["MUSE_DATA_DIR"] = tempfile.mkdtemp(prefix="data-export-", dir=os.environ.get("MUSE_DATA_DIR"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "museapp.settings")
    os.environ["MUSE_DB_POOL"] = "false"
    os.environ["MUSE_RATE_BROWSING"] = "off"  # the bench downloads as often as it likes
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", interactive=False, verbosity=0)
    started = time.perf_counter()
    person_id = in_child(seed_in_child, conversations=args.conversations, messages=args.messages)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    print(f"seeded {args.conversations:,} conversations x {args.messages} messages in "
          f"{time.perf_counter() - started:.0f} s ({connection.vendor})", flush=True)
    print(f"{'download':<22} {'first part':>11} {'total':>8} {'queries':>8} {'MB sent':>8} {'RSS growth MB':>14}")
    for what in ("my data", "json", "markdown"):
        figures = in_child(download_in_child, person_id=person_id, what=what)
        label = "Download my data" if what == "my data" else f"one conversation, {what}"
        print(f"{label:<22} {figures['first_ms']:>8.0f} ms {figures['total_s']:>6.2f} s {figures['queries']:>8} "
              f"{figures['bytes'] / 2**20:>8.2f} {figures['growth_mb']:>14.1f}", flush=True)
    if os.environ.get("DATABASE_URL") and not args.keep:
        get_user_model().objects.filter(pk=person_id).delete()


if __name__ == "__main__":
    main()
