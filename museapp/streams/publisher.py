"""Frames: tokens coalesced and sent to the conversation's group.

At most one frame per ``MUSE_FRAME_INTERVAL`` per stream, and at most
``MUSE_FRAME_BUDGET`` per second across the process, so load makes frames
bigger rather than more numerous. Each frame's text is recorded in the live
text (museapp/streams/livetext.py) before the frame goes out.

Every ``MUSE_RENDER_INTERVAL`` (and at the end) a frame also carries the
whole text so far rendered as Markdown, rendered here once for every page
that shows the stream; frames in between carry only their text. A long
text takes longer to render, so it is rendered less often: one stream's
renderings take at most ``RENDER_SHARE`` of the process's time.
"""

from __future__ import annotations

import logging
import time

from channels.layers import get_channel_layer
from django.conf import settings

from museapp.streams import events, livetext
from museapp.streams.markdown import render_live
from museapp.streams.names import Stream, conversation_group

log = logging.getLogger(__name__)

_active_streams = 0
RENDER_SHARE = 0.1


def frame_interval() -> float:
    """Seconds between two frames of one stream, given the process's load."""
    return max(settings.MUSE_FRAME_INTERVAL, _active_streams / settings.MUSE_FRAME_BUDGET)


def render_interval() -> float:
    """Seconds between two Markdown renderings of one stream's text."""
    return max(settings.MUSE_RENDER_INTERVAL, frame_interval())


class counted_stream:
    """Counts the streams this process runs, for the frame budget."""

    def __enter__(self) -> None:
        global _active_streams
        _active_streams += 1

    def __exit__(self, *exc_info) -> None:
        global _active_streams
        _active_streams -= 1


class FramePublisher:
    """``show_text`` False: the frames carry the stream's progress (its token
    count and time) but none of its text, which is still kept for the
    reaper and the database (a blind comparison's drafts)."""

    def __init__(self, conversation_id: int, stream: Stream, *, show_text: bool = True):
        self.show_text = show_text
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
        self.next_render = 0.0  # when a rendering is due again (time.monotonic())
        self.rendered_seq = 0  # the last frame that carried a rendering

    async def add(self, text: str) -> None:
        self.pending.append(text)
        self.count += 1
        # The first token goes out at once: time to first token is what a
        # person feels most.
        if (self.seq == 0 and not self.failing) or time.monotonic() - self.last_flush >= frame_interval():
            await self.flush()

    async def flush(self, *, final: bool = False) -> None:
        """Publish what is pending; ``final``: the stream is over, so this
        frame carries the finished rendering."""
        if not self.pending and not (final and self.rendered_seq < self.seq):
            return
        text = "".join(self.pending)
        self.last_flush = time.monotonic()
        try:
            await self._publish(text, render=final or self.last_flush >= self.next_render)
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

    async def _publish(self, text: str, *, render: bool) -> None:
        # The snapshot first, then the frame: see museapp/streams/livetext.py.
        seq = self.seq + 1
        if not await livetext.record(self.stream, text, seq, recorded_bytes=self.recorded_bytes):
            await livetext.rewrite(self.stream, "".join(self.published) + text, seq)
        html = self._rendered("".join(self.published) + text, seq) if render and self.show_text else ""
        elapsed_ms = (self.last_flush - self.started) * 1000
        shown = text if self.show_text else ""
        await self.layer.group_send(self.group, events.tokens(self.stream, shown, html, seq, self.count, elapsed_ms))

    def _rendered(self, text: str, seq: int) -> str:
        started = time.monotonic()
        html = render_live(text, self.stream.dom_id)
        took = time.monotonic() - started
        self.next_render = self.last_flush + max(render_interval(), took / RENDER_SHARE)
        self.rendered_seq = seq
        return html


async def publish_text(*, stream: Stream, conversation_id: int, text: str) -> None:
    """Show a whole text in a stream at once (a selected draft, a vote)."""
    publisher = FramePublisher(conversation_id, stream)
    await publisher.add(text)
    await publisher.flush(final=True)
