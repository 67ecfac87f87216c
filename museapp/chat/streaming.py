"""Stream one answer from the model to the conversation's group.

Runs on the worker's event loop (museapp.ops.loop). Tokens are coalesced into
frames: at most one per ``MUSE_FRAME_INTERVAL`` per answer, and at most
``MUSE_FRAME_BUDGET`` per second across the process, so load makes frames
bigger rather than more numerous.
"""

from __future__ import annotations

import asyncio
import time

from channels.layers import get_channel_layer
from django.conf import settings

from museapp.chat import events, livetext, stopping
from museapp.chat.models import Message
from museapp.chat.services import ReplyOutcome
from museapp.llm.adapter import ModelCall, ModelError, StreamStats, stream_completion

_active_streams = 0


def frame_interval() -> float:
    """Seconds between two frames of one answer, given the process's load."""
    return max(settings.MUSE_FRAME_INTERVAL, _active_streams / settings.MUSE_FRAME_BUDGET)


class FramePublisher:
    def __init__(self, group: str, message_id: int):
        self.layer = get_channel_layer()
        self.group = group
        self.message_id = message_id
        self.pending: list[str] = []
        self.seq = 0
        self.last_flush = 0.0

    async def add(self, text: str) -> None:
        self.pending.append(text)
        # The first token goes out at once: time to first token is what a
        # person feels most.
        if self.seq == 0 or time.monotonic() - self.last_flush >= frame_interval():
            await self.flush()

    async def flush(self) -> None:
        if not self.pending:
            return
        text = "".join(self.pending)
        self.pending.clear()
        self.seq += 1
        self.last_flush = time.monotonic()
        # The snapshot first, then the frame: see museapp/chat/livetext.py.
        await livetext.record(self.message_id, text, self.seq)
        await self.layer.group_send(self.group, events.tokens(self.message_id, text, self.seq))


async def stream_reply(*, message_id: int, conversation_id: int, call: ModelCall) -> ReplyOutcome:
    """Stream the answer, publishing frames; return what to save."""
    global _active_streams
    publisher = FramePublisher(events.conversation_group(conversation_id), message_id)
    stats = StreamStats()
    parts: list[str] = []
    stop = await stopping.stop_event(message_id)

    async def consume() -> None:
        async for delta in stream_completion(call, stats):
            parts.append(delta)
            await publisher.add(delta)

    _active_streams += 1
    consumer = asyncio.ensure_future(consume())
    stopper = asyncio.ensure_future(stop.wait())
    status, error = Message.Status.DONE, ""
    try:
        await asyncio.wait({consumer, stopper}, return_when=asyncio.FIRST_COMPLETED)
        if consumer.done():
            exc = consumer.exception()
            if isinstance(exc, ModelError):
                status, error = Message.Status.ERROR, exc.reason
            elif exc is not None:
                status, error = Message.Status.ERROR, f"Muse failed while answering ({type(exc).__name__})."
        else:
            consumer.cancel()
            await asyncio.gather(consumer, return_exceptions=True)
            status = Message.Status.STOPPED
        await publisher.flush()
    finally:
        _active_streams -= 1
        stopper.cancel()
        stopping.forget(message_id)
    if stats.ended_at is None:
        stats.ended_at = time.monotonic()
    if error and parts:
        error = f"The answer was cut off: {error}"
    return ReplyOutcome(
        text="".join(parts),
        status=status,
        error=error,
        prompt_tokens=stats.prompt_tokens,
        completion_tokens=stats.completion_tokens,
        cost=stats.cost,
        ttft_ms=stats.ttft_ms,
        total_ms=stats.total_ms,
    )


async def announce_changed(*, conversation_id: int, message_id: int) -> None:
    """After the final text is saved: pages re-render the message from the
    database, and the live snapshot is no longer needed."""
    await livetext.clear(message_id)
    await get_channel_layer().group_send(
        events.conversation_group(conversation_id), events.message_changed(message_id)
    )


async def warm_up() -> None:
    """Open the channel layer's and the stop listener's Redis connections."""
    await stopping.listen()
    await get_channel_layer().group_send("warm-up", {"type": "warm.up"})
