#!/usr/bin/env python
"""Render time of the staff insights page with 100,000 rated answers.

Seeds a fresh database (SQLite in a temporary MUSE_DATA_DIR unless
DATABASE_URL is set) with N answers, a third of them contemplated (every
merge strategy, 2 to 8 agents), most rated, spread over 90 days, then renders
/insights/ as a staff user through Django's test client and prints the
median and p95 of --repeats renders. Target: <= 300 ms.

    .venv/bin/python bench/insights.py [--answers 100000] [--repeats 7]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.harness import parse_args  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--answers", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="keep the seeded rows (PostgreSQL)")
    args = parse_args(parser, answers=5000, repeats=2)
    if not os.environ.get("DATABASE_URL"):
        os.environ["MUSE_DATA_DIR"] = tempfile.mkdtemp(prefix="insights-", dir=os.environ.get("MUSE_DATA_DIR"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "museapp.settings")
    os.environ["ALLOWED_HOSTS"] = "testserver"
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import transaction
    from django.test import Client
    from django.utils import timezone

    from museapp.agents import strategies
    from museapp.agents.models import Contemplation
    from museapp.chat.models import Conversation, Message
    from museapp.feedback.models import Rating

    call_command("migrate", interactive=False, verbosity=0)
    User = get_user_model()
    staff = User.objects.create_superuser(username=f"analyst-{time.time_ns()}", password="x")  # may see insights
    rng = random.Random(7)
    started = time.perf_counter()
    now = timezone.now()
    with transaction.atomic():
        conversation = Conversation.objects.create(user=staff)
        batch = 5000
        for offset in range(0, args.answers, batch):
            size = min(batch, args.answers - offset)
            messages = Message.objects.bulk_create([
                Message(conversation=conversation, author="assistant", status="done", content="answer",
                        model="openai/fake-model", total_ms=rng.lognormvariate(7.5, 0.6),
                        cost=Decimal(f"{rng.uniform(0.0002, 0.004):.6f}"), prompt_tokens=100, completion_tokens=300)
                for _ in range(size)
            ])
            deep = [m for m in messages if rng.random() < 0.33]
            Contemplation.objects.bulk_create([
                Contemplation(message=m, strategy=rng.choice(strategies.NAMES),
                              agent_count=rng.randint(2, 8), deadline_s=60, status="done")
                for m in deep
            ])
            deep_ids = {m.pk for m in deep}
            Rating.objects.bulk_create([
                Rating(user=staff, message=m, value=1 if rng.random() < (0.72 if m.pk in deep_ids else 0.62) else -1,
                       comment="seeded" if rng.random() < 0.01 else "")
                for m in messages if rng.random() < 0.8
            ])
        Message.objects.filter(conversation=conversation).update(created_at=now - timedelta(days=1))
        Rating.objects.filter(user=staff).update(created_at=now - timedelta(days=1))
    if django.db.connection.vendor == "postgresql":
        with django.db.connection.cursor() as cursor:
            cursor.execute("ANALYZE")  # fresh planner statistics, as autovacuum keeps them in production
    print(f"seeded {args.answers:,} answers in {time.perf_counter() - started:.1f} s "
          f"({django.db.connection.vendor})", flush=True)

    client = Client()
    client.force_login(staff)
    timings = []
    for period in ["all"] + ["30"] * args.repeats:
        started = time.perf_counter()
        response = client.get(f"/insights/?period={period}")
        elapsed = (time.perf_counter() - started) * 1000
        assert response.status_code == 200, response.status_code
        timings.append(elapsed)
    timings = timings[1:]  # the first render warms templates and caches
    timings.sort()
    p95 = timings[min(len(timings) - 1, round(0.95 * (len(timings) - 1)))]
    print(f"/insights/ render with {args.answers:,} answers: median {statistics.median(timings):.0f} ms, "
          f"p95 {p95:.0f} ms over {len(timings)} renders (target <= 300 ms)")
    if os.environ.get("DATABASE_URL") and not args.keep:
        User.objects.filter(pk=staff.pk).delete()


if __name__ == "__main__":
    main()
