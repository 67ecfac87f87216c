"""A socket's outbox (museapp/web/outbox.py): a page that stops reading
holds a bounded backlog, and what it missed is made good once it reads
again."""

import asyncio

import pytest

from museapp.streams import events
from museapp.streams.names import Stream
from museapp.web.outbox import Outbox

pytestmark = pytest.mark.asyncio

LIMIT = 16 * 1024


class Page:
    """A page whose socket takes frames only while it reads."""

    def __init__(self):
        self.frames: list[str] = []
        self.reading = asyncio.Event()
        self.reading.set()
        self.closed = False

    async def write(self, frame: str) -> None:
        await self.reading.wait()
        self.frames.append(frame)

    async def close(self) -> None:
        self.closed = True


def token_event(seq: int, text: str) -> events.Tokens:
    return events.tokens(Stream.answer(7), text, "", seq, seq, 10.0 * seq)


async def made_frame(event: events.Tokens) -> str:
    return f"frame {event['seq']}"


async def until(predicate, timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.01)


async def test_frames_reach_a_reading_page_in_order():
    page = Page()
    outbox = Outbox(write=page.write, frame=made_frame, close=page.close, limit=LIMIT)
    outbox.put("<div>turn</div>")
    for seq in range(1, 4):
        outbox.put(token_event(seq, "word "))
    await until(lambda: len(page.frames) == 4)
    assert page.frames == ["<div>turn</div>", "frame 1", "frame 2", "frame 3"]
    outbox.stop()


async def test_a_page_that_stops_reading_holds_a_bounded_backlog_then_gets_the_latest():
    page = Page()
    outbox = Outbox(write=page.write, frame=made_frame, close=page.close, limit=LIMIT)
    page.reading.clear()  # a sleeping laptop
    outbox.put("<div>turn</div>")
    await asyncio.sleep(0.01)  # the writer is now waiting on the page
    for seq in range(1, 5001):  # 5,000 frames of 100 characters: half a megabyte
        outbox.put(token_event(seq, "x" * 100))
        assert outbox.bytes <= LIMIT
    outbox.put("<div>the answer, done</div>")
    outbox.put(token_event(5001, "last"))
    assert outbox.dropped > 4500

    page.reading.set()
    await until(lambda: "frame 5001" in page.frames)
    # What was queued past the limit is gone; what came after it and every
    # whole re-render are sent, in order.
    assert page.frames[0] == "<div>turn</div>"
    assert page.frames[-2:] == ["<div>the answer, done</div>", "frame 5001"]
    assert not page.closed
    outbox.stop()


async def test_a_page_too_far_behind_for_frames_is_closed_to_reconnect():
    page = Page()
    outbox = Outbox(write=page.write, frame=made_frame, close=page.close, limit=LIMIT)
    page.reading.clear()
    outbox.put("<div>first</div>")
    await asyncio.sleep(0.01)
    for n in range(100):  # whole re-renders, which cannot be dropped one by one
        outbox.put(f"<div>{n}{'y' * 1000}</div>")
    assert outbox.bytes == 0
    outbox.put("<div>after</div>")  # nothing more is queued once it is closing
    page.reading.set()
    await until(lambda: page.closed)
    assert page.frames == ["<div>first</div>"]
