#!/usr/bin/env python
"""The chat page with a short and a long conversation list, side by side:
server time (median of N) and database queries per page, for a person with
20, 50 and 2,000 conversations (the sidebar loads 50 at a time; the rest as
it scrolls). Also one later page of the list. Prints figures; not a test.

    .venv/bin/python bench/sidebar.py [--repeats 15]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_sidebar .venv/bin/python bench/sidebar.py
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.harness import parse_args  # noqa: E402


def person_with(count: int):
    """A person with ``count`` conversations, one every 8 hours back, and the
    newest one open (its page is what is timed)."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from museapp.chat.models import Conversation

    user = get_user_model().objects.create_user(username=f"bench-{count}-{time.time_ns()}", password="x")
    made = Conversation.objects.bulk_create([Conversation(user=user, title=f"Chat {n}") for n in range(count)])
    now = timezone.now()
    for n, conversation in enumerate(made):
        conversation.updated_at = now - timedelta(hours=8 * n)
    Conversation.objects.bulk_update(made, ["updated_at"], batch_size=500)
    return user, made[0]


def timed_side_by_side(paths: dict[str, tuple], repeats: int) -> dict[str, tuple[float, int, int]]:
    """Median server time in ms, queries and bytes of each GET, taken in
    turns (one of each per round), so the machine's noise falls on all alike."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    timings: dict[str, list[float]] = {label: [] for label in paths}
    seen: dict[str, tuple[int, int]] = {}
    for client, path in paths.values():
        client.get(path)  # warm: templates, connection
    for _ in range(repeats):
        for label, (client, path) in paths.items():
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                response = client.get(path)
                timings[label].append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (path, response.status_code)
            seen[label] = (len(queries), len(response.content))
    return {label: (statistics.median(times), *seen[label]) for label, times in timings.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--largest", type=int, default=2000, help="the longest list's conversations")
    args = parse_args(parser, repeats=2, largest=200)
    if not os.environ.get("DATABASE_URL"):
        os.environ["MUSE_DATA_DIR"] = tempfile.mkdtemp(prefix="sidebar-", dir=os.environ.get("MUSE_DATA_DIR"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "museapp.settings")
    os.environ["ALLOWED_HOSTS"] = "testserver"
    os.environ["MUSE_RATE_BROWSING"] = "off"  # pages of the list, asked for over and over: no limit here
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client

    from museapp.chat.sidebar import Cursor

    call_command("migrate", interactive=False, verbosity=0)
    paths, users = {}, []
    for count in (20, 50, args.largest):
        user, newest = person_with(count)
        users.append(user)
        client = Client()
        client.force_login(user)
        paths[f"chat page, {count:,} conversations"] = (client, f"/c/{newest.pk}/")
        if count == args.largest:
            cursor = Cursor(newest.updated_at - timedelta(hours=8 * 99), 0).encode()  # after the 100th
            paths[f"3rd page of the list, {count:,}"] = (client, f"/c/{newest.pk}/sidebar/?after={cursor}")
    figures = timed_side_by_side(paths, args.repeats)
    print(f"{'':<34} | {'median ms':>9} | {'queries':>7} | {'kB':>4}   (n={args.repeats}, taken in turns)")
    for label, (ms, queries, size) in figures.items():
        print(f"{label:<34} | {ms:>9.1f} | {queries:>7} | {size / 1024:>4.0f}")
    for user in users:
        user.delete()


if __name__ == "__main__":
    main()
