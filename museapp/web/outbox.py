"""A socket's outbox: the frames its page is sent, in order, written by a
task of its own.

A web process reads every conversation's events from one channel-layer
reader and hands each socket its share. A page that stops reading (a bad
network, a sleeping laptop) blocks its socket's writes; were the socket to
write as the events came, its events would pile up unread in the layer's
queue without bound. Instead the socket puts its frames here and goes on
reading, and the writer sends them as fast as the page takes them.

The outbox is bounded. Past ``limit`` bytes, the token frames queued are
dropped: the next frame of their stream then finds a gap in its sequence
numbers, and the page is resynced from the live snapshot (the consumer's
``frame`` callback), as on a reconnect. Past four times the limit with
several whole re-renders queued, the page is too far behind to catch up
frame by frame: everything queued is dropped and the socket closes, so the
page reconnects and renders the conversation anew.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable

from museapp.streams import events

log = logging.getLogger(__name__)

Item = str | events.Tokens  # a frame, or a token event the writer makes a frame of


def _size(item: Item) -> int:
    return len(item) if isinstance(item, str) else len(item["text"]) + len(item["html"]) + 100


class Outbox:
    def __init__(self, *, write: Callable[[str], Awaitable[None]], frame: Callable[[events.Tokens], Awaitable[str]],
                 close: Callable[[], Awaitable[None]], limit: int):
        self._write, self._frame, self._close = write, frame, close
        self.limit = limit
        self.items: deque[Item] = deque()
        self.bytes = 0
        self.dropped = 0  # token frames dropped, over the socket's life
        self._closing = False
        self._waiting = asyncio.Event()
        self._writer = asyncio.create_task(self._drain())

    def put(self, item: Item) -> None:
        if self._closing:
            return
        self.items.append(item)
        self.bytes += _size(item)
        if self.bytes > self.limit:
            self._drop_token_frames()
        self._waiting.set()

    def stop(self) -> None:
        self._writer.cancel()

    def _drop_token_frames(self) -> None:
        kept = deque(item for item in self.items if isinstance(item, str))
        if not self.dropped:
            log.info("a page is not reading; its token frames are dropped until it resyncs")
        self.dropped += len(self.items) - len(kept)
        self.items, self.bytes = kept, sum(map(_size, kept))
        if self.bytes > 4 * self.limit and len(self.items) > 1:
            log.info("a page fell %s bytes behind; closing its socket so it reconnects", self.bytes)
            self.items.clear()
            self.bytes = 0
            self._closing = True

    async def _drain(self) -> None:
        while True:
            await self._waiting.wait()
            while self.items:
                item = self.items.popleft()
                self.bytes -= _size(item)
                try:
                    html = item if isinstance(item, str) else await self._frame(item)
                    if html:
                        await self._write(html)
                except Exception:  # noqa: BLE001 - one frame lost (a resync's database away): the socket goes on
                    log.exception("a frame could not be sent")
            self._waiting.clear()
            if self._closing:
                await self._close()
                return
