"""Upload to first token for a 10 MB PDF: how long a person waits between
choosing a large file and seeing the answer start, in its three parts.

    .venv/bin/python bench/files.py            # 5 rounds of each shape (about 3 min)
    .venv/bin/python bench/files.py --quick    # 1 round of a 1 MB PDF (a smoke run)

It starts Muse as ``bench/ttft.py`` does (``bench/harness.py``: the fake
model, a worker, the uvicorn web process) and, as the page does, POSTs the
file to the conversation's upload URL with the person's session and CSRF
token, polls the chip until the file is read, then sends the question over
the chat's WebSocket carrying the file's id. Each round uses a new
conversation. Two shapes of PDF, both made here:

- text: pages of text, about 10 KB each (a long report, its text as large
  as the file);
- scanned: 50 pages, each an incompressible 200 KB image and a line of text
  (the common large PDF: big file, little text).

upload: POST until the chip comes back (the bytes stored, the row saved);
read: until the chip says ready (the worker's child process reads the text);
first token: the question's send until its answer's first token frame,
minus the fake model's delay (fitting the file's text to the window is in
it). A question without a file is timed alongside, for comparison.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import BenchRun, ChatSocket, Person, fmt, run_async  # noqa: E402
from tests.files.pdfs import pdf  # noqa: E402

DELAY = 0.2  # the fake model's first-token delay
READ_POLL = 0.05  # the page polls every 400 ms; the bench closer, to time the read itself
LINE = "Quarterly revenue rose in every region while costs held steady across the year. "


def text_pdf(megabytes: float) -> bytes:
    pages = max(1, int(megabytes * 100))
    return pdf(*[f"Page {n}. " + LINE * 120 for n in range(1, pages + 1)])


def scanned_pdf(megabytes: float) -> bytes:
    """Pages whose bulk is a stream of random bytes (an image's), beside a line of text."""
    pages = max(1, int(megabytes * 5))
    return pdf(*[f"Scanned page {n}. {LINE}" for n in range(1, pages + 1)], padding=os.urandom(200_000))


class Browser:
    """The page's HTTP side: its cookies and CSRF token, the upload and the chip."""

    def __init__(self, port: int, person: Person):
        self.client = httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=120,
                                        cookies={"sessionid": person.session_key})
        self.person = person
        self.token = ""

    async def open(self) -> None:
        page = await self.client.get(f"/c/{self.person.conversation_id}/")
        page.raise_for_status()
        self.token = re.search(r'"X-CSRFToken": "([^"]+)"', page.text).group(1)

    async def upload(self, name: str, data: bytes) -> tuple[str, float]:
        started = time.perf_counter()
        reply = await self.client.post(f"/c/{self.person.conversation_id}/files/", files={"file": (name, data)},
                                       headers={"X-CSRFToken": self.token})
        if reply.status_code != 201:
            raise RuntimeError(f"upload refused ({reply.status_code}): {reply.text[:300]}")
        return re.search(r'data-attachment-id="(\d+)"', reply.text).group(1), time.perf_counter() - started

    async def read(self, attachment_id: str) -> tuple[str, float]:
        started = time.perf_counter()
        while True:
            chip = await self.client.get(f"/c/{self.person.conversation_id}/files/{attachment_id}/")
            status = re.search(r'data-status="(\w+)"', chip.text).group(1)
            if status != "reading":
                note = re.search(r'class="chip-(?:note|error)"[^>]*>([^<]*)', chip.text)
                if status != "ready":
                    raise RuntimeError(f"the file was not read: {note.group(1) if note else status}")
                return (note.group(1) if note else ""), time.perf_counter() - started
            await asyncio.sleep(READ_POLL)

    async def close(self) -> None:
        await self.client.aclose()


async def one_round(port: int, person: Person, name: str, data: bytes | None) -> dict:
    """Attach ``data`` (if any) and ask about it; the parts in ms."""
    browser = Browser(port, person)
    tab = ChatSocket(port, person, DELAY)
    try:
        await browser.open()
        await tab.connect()
        parts, extra = {"upload": 0.0, "read": 0.0}, {}
        if data is not None:
            attachment_id, parts["upload"] = await browser.upload(name, data)
            parts["note"], parts["read"] = await browser.read(attachment_id)
            extra = {"attachments": [attachment_id]}
        answer = await tab.ask("Summarise the attached report in three lines", extra=extra)
        if answer.overhead_ms is None:
            raise RuntimeError(f"no first token: {answer.status} {answer.detail}")
        parts["first token"] = answer.overhead_ms / 1000
        return parts
    finally:
        await tab.close()
        await browser.close()


def new_conversations(people: list[Person], count: int) -> list[Person]:
    from museapp.chat.models import Conversation

    person = people[0]
    made = Conversation.objects.bulk_create([Conversation(user_id=person.user_id) for _ in range(count)])
    return [Person(person.user_id, c.pk, person.session_key) for c in made]


def report(shape: str, size: int, rounds: list[dict]) -> None:
    def median(key: str) -> float:
        return statistics.median(r[key] for r in rounds) * 1000

    total = [(r["upload"] + r["read"] + r["first token"]) * 1000 for r in rounds]
    print(f"  {shape:<22}{size / 1e6:>6.1f} MB  upload {fmt(median('upload'), 0):>6}  read {fmt(median('read'), 0):>6}"
          f"  first token {fmt(median('first token'), 0):>5}  total {fmt(statistics.median(total), 0):>6} ms"
          f"  (range {min(total):,.0f}-{max(total):,.0f})")
    notes = {r.get("note") for r in rounds} - {"", None}
    if notes:
        print(f"  {'':<22}chip: {'; '.join(sorted(notes))}")


def measure(args, run: BenchRun) -> int:
    run.start(people=1, workers=1, concurrency=8,
              fake_options=["--first-token-delay", str(DELAY), "--tokens", "20", "--token-delay", "0.01"])
    shapes = {"no file": None, "text PDF": text_pdf(args.megabytes), "scanned PDF": scanned_pdf(args.megabytes)}
    conversations = iter(new_conversations(run.people, args.rounds * len(shapes)))
    results: dict[str, list[dict]] = {shape: [] for shape in shapes}
    for _ in range(args.rounds):  # the shapes in turns, so a busy moment hits each alike
        for shape, data in shapes.items():
            results[shape].append(run_async(one_round(run.web_port, next(conversations), "report.pdf", data)))
    print()
    print(f"Upload to first token ({run.setup}; median of {args.rounds}, fake model's {DELAY * 1000:.0f} ms taken off)")
    for shape, data in shapes.items():
        report(shape, len(data or b""), results[shape])
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="one round of a 1 MB PDF")
    parser.add_argument("--rounds", type=int, default=None, help="rounds of each shape (default 5)")
    parser.add_argument("--megabytes", type=float, default=None, help="the PDFs' size (default 10)")
    parser.add_argument("--keep", action="store_true", help="keep the run's data directory and logs")
    args = parser.parse_args()
    args.rounds = args.rounds or (1 if args.quick else 5)
    args.megabytes = args.megabytes or (1 if args.quick else 10)
    run = BenchRun("files", tag="files", keep=args.keep)
    return run.execute(lambda: measure(args, run))


if __name__ == "__main__":
    sys.exit(main())
