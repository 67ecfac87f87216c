#!/usr/bin/env python
"""A long conversation's page: render time (median of N) and size, with the
latest-50-turns paging, for a conversation of T turns whose answers are a
few paragraphs of Markdown each. Prints figures; not a test.

    MUSE_DATA_DIR=/tmp/muse-bench .venv/bin/python bench/conversation_page.py [--turns 300]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.harness import parse_args  # noqa: E402

ANSWER = ("Here is a **short** answer with a list:\n\n- one point\n- another point\n\n"
          "```python\nprint('hello')\n```\n\n" + "A paragraph of plain words. " * 20)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--turns", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=9)
    args = parse_args(parser, turns=30, repeats=3)
    if not os.environ.get("DATABASE_URL"):
        os.environ["MUSE_DATA_DIR"] = tempfile.mkdtemp(prefix="page-", dir=os.environ.get("MUSE_DATA_DIR"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "museapp.settings")
    os.environ["ALLOWED_HOSTS"] = "testserver"
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.test import Client

    from museapp.chat.models import Conversation, Message
    from tests.trees import link_in_order

    call_command("migrate", interactive=False, verbosity=0)
    user = get_user_model().objects.create_user(username=f"bench-{time.time_ns()}", password="x")
    conversation = Conversation.objects.create(user=user, title="A long one")
    Message.objects.bulk_create(
        Message(conversation=conversation, author=author, content=f"Question {i}?" if author == "user" else ANSWER)
        for i in range(args.turns) for author in ("user", "assistant"))
    link_in_order()  # as the turns would have been
    client = Client()
    client.force_login(user)
    path = f"/c/{conversation.pk}/"
    client.get(path)  # warm: templates, connection
    timings, size = [], 0
    for _ in range(args.repeats):
        started = time.perf_counter()
        response = client.get(path)
        timings.append((time.perf_counter() - started) * 1000)
        size = len(response.content)
    print(f"{args.turns}-turn conversation page: median {statistics.median(timings):.0f} ms "
          f"(min {min(timings):.0f}, max {max(timings):.0f}, n={args.repeats}), {size / 1024:.0f} kB")
    conversation.delete()
    user.delete()


if __name__ == "__main__":
    main()
