"""Frames: tokens coalesced and sent to the conversation's group.

At most one frame per ``MUSE_FRAME_INTERVAL`` per stream, and at most
``MUSE_FRAME_BUDGET`` per second across the process, so load makes frames
bigger rather than more numerous. Each frame's text is recorded in the live
text (museapp/streams/livetext.py) before the frame goes out.
"""

from __future__ import annotations

import logging
import time

from channels.layers import get_channel_layer
from django.conf import settings

from museapp.streams import events, livetext
from museapp.streams.names import Stream, conversation_group

log = logging.getLogger(__name__)

_active_streams = 0


def frame_interval() -> float:
    """Seconds between two frames of one stream, given the process's load."""
    return max(settings.MUSE_FRAME_INTERVAL, _active_streams / settings.MUSE_FRAME_BUDGET)


class counted_stream:
    """Counts the streams this process runs, for the frame budget."""

    def __enter__(self) -> None:
        global _active_streams
        _active_streams += 1

    def __exit__(self, *exc_info) -> None:
        global _active_streams
        _active_streams -= 1


class FramePublisher:
    def __init__(self, conversation_id: int, stream: Stream):
        self.layer = get_channel_layer()
        self.group = conversation_group(conversation_id)
        self.stream = stream
        self.pending: list[str] = []
        self.seq = 0
        self.count = 0
        self.published: list[str] = []  # the frames' texts so far
        self.recorded_bytes = 0
        self.failing = False
        self.started = time.monotonic()
        self.last_flush = 0.0

    async def add(self, text: str) -> None:
        self.pending.append(text)
        self.count += 1
        # The first token goes out at once: time to first token is what a
        # person feels most.
        if (self.seq == 0 and not self.failing) or time.monotonic() - self.last_flush >= frame_interval():
            await self.flush()

    async def flush(self) -> None:
        if not self.pending:
            return
        text = "".join(self.pending)
        self.last_flush = time.monotonic()
        try:
            await self._publish(text)
        except Exception:  # noqa: BLE001 - Redis is away (a restart): keep the text for the next frame
            if not self.failing:
                log.warning("could not publish %s; holding its text until Redis answers", self.stream,
                            exc_info=True)
            self.failing = True
            return
        if self.failing:
            log.info("publishing %s again", self.stream)
            self.failing = False
        self.pending.clear()
        self.published.append(text)
        self.recorded_bytes += len(text.encode())
        self.seq += 1

    async def _publish(self, text: str) -> None:
        # The snapshot first, then the frame: see museapp/streams/livetext.py.
        seq = self.seq + 1
        if not await livetext.record(self.stream, text, seq, recorded_bytes=self.recorded_bytes):
            await livetext.rewrite(self.stream, "".join(self.published) + text, seq)
        elapsed_ms = (self.last_flush - self.started) * 1000
        await self.layer.group_send(self.group, events.tokens(self.stream, text, seq, self.count, elapsed_ms))


async def publish_text(*, stream: Stream, conversation_id: int, text: str) -> None:
    """Show a whole text in a stream at once (a selected draft, a vote)."""
    publisher = FramePublisher(conversation_id, stream)
    await publisher.add(text)
    await publisher.flush()
