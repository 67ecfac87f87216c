"""Stream model output to the conversation's group.

Runs on the worker's event loop (museapp.ops.loop). Tokens are coalesced into
frames: at most one per ``MUSE_FRAME_INTERVAL`` per stream, and at most
``MUSE_FRAME_BUDGET`` per second across the process, so load makes frames
bigger rather than more numerous. Used for answers and for agents' drafts.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field

from channels.layers import get_channel_layer
from django.conf import settings

from museapp.chat import events, leases, livetext, stopping
from museapp.chat.services import ReplyOutcome
from museapp.llm.adapter import ModelCall, ModelError, StreamStats, stream_completion

log = logging.getLogger(__name__)

DONE, ERROR, STOPPED, CUT_OFF = "done", "error", "stopped", "cut_off"
HEADER_MAX_CHARS = 160
CANCEL_GRACE_SECONDS = 0.5
ANNOUNCE_PATIENCE_SECONDS = 30.0  # a held-back first line longer than this was not a header

_active_streams = 0


def frame_interval() -> float:
    """Seconds between two frames of one stream, given the process's load."""
    return max(settings.MUSE_FRAME_INTERVAL, _active_streams / settings.MUSE_FRAME_BUDGET)


class FramePublisher:
    def __init__(self, group: str, stream: str):
        self.layer = get_channel_layer()
        self.group = group
        self.stream = stream
        self.pending: list[str] = []
        self.seq = 0
        self.count = 0
        self.shown: list[str] = []  # the frames published so far
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
            # The snapshot first, then the frame: see museapp/chat/livetext.py.
            if not await livetext.record(self.stream, text, self.seq + 1, recorded_bytes=self.recorded_bytes):
                await livetext.rewrite(self.stream, "".join(self.shown) + text, self.seq + 1)
            elapsed_ms = (self.last_flush - self.started) * 1000
            await self.layer.group_send(
                self.group, events.tokens(self.stream, text, self.seq + 1, self.count, elapsed_ms)
            )
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
        self.shown.append(text)
        self.recorded_bytes += len(text.encode())
        self.seq += 1


@dataclass
class StreamResult:
    text: str
    status: str
    error: str = ""
    stats: StreamStats = field(default_factory=StreamStats)
    header: str = ""  # the held-back first line, when asked for


async def run_stream(
    *,
    stream: str,
    conversation_id: int,
    call: ModelCall,
    deadline: float | None = None,
    publish: bool = True,
    hold_first_line: bool = False,
) -> StreamResult:
    """Stream ``call`` to the page as ``stream`` until it ends, fails, is
    stopped, or reaches ``deadline`` (a time.time() value: it crosses
    processes). With ``hold_first_line`` the first line is kept back from the
    page and returned as ``header`` (a judge's verdict before its answer)."""
    global _active_streams
    publisher = FramePublisher(events.conversation_group(conversation_id), stream)
    stats = StreamStats()
    parts: list[str] = []
    held: list[str] = []
    header: list[str] = []
    stop = await stopping.stop_event(stream)
    ended = False  # set once this stream is over: the consumer must not go on

    async def consume() -> None:
        holding = hold_first_line
        async for delta in stream_completion(call, stats):
            if ended:  # stopped or cut off, but the cancellation was swallowed below us
                log.info("stream %s went on after its cancellation; ended at its next chunk", stream)
                return
            if holding:
                held.append(delta)
                joined = "".join(held)
                if "\n" in joined:
                    first, _, delta = joined.partition("\n")
                    header.append(first)
                    delta = delta.lstrip("\n")
                elif len(joined) > HEADER_MAX_CHARS:
                    delta = joined  # no verdict line after all: it is all answer
                else:
                    continue
                holding = False
                held.clear()
                if not delta:
                    continue
            parts.append(delta)
            if publish and not ended:
                await publisher.add(delta)

    _active_streams += 1
    consumer = asyncio.ensure_future(consume())
    stopper = asyncio.ensure_future(stop.wait())
    status, error = DONE, ""
    try:
        timeout = None if deadline is None else max(deadline - time.time(), 0.0)
        await asyncio.wait({consumer, stopper}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        if consumer.done():
            exc = consumer.exception()
            if isinstance(exc, ModelError):
                status, error = ERROR, exc.reason
            elif exc is not None:
                status, error = ERROR, f"Muse failed while answering ({type(exc).__name__})."
        else:
            ended = True
            consumer.cancel()
            # The cancellation is not enough: below us (litellm's stream
            # wrapper and the HTTP client), it is sometimes swallowed and the
            # model stream goes on; with 20 streams stopped at once, 8 did
            # (tests/chat/test_consumer.py). Before this flag they ran, and
            # showed tokens, until the model finished. Now they end at
            # their next chunk, and we wait for that only briefly.
            await asyncio.wait({consumer}, timeout=CANCEL_GRACE_SECONDS)
            if not consumer.done():
                log.warning("stream %s ignored its cancellation; leaving it to end at its next chunk", stream)
                consumer.add_done_callback(_retrieve)
            status = STOPPED if stopper.done() else CUT_OFF
        if publish:
            await publisher.flush()
    finally:
        _active_streams -= 1
        stopper.cancel()
        stopping.forget(stream)
    if status == STOPPED:
        await stopping.clear(stream)
    if stats.ended_at is None:
        stats.ended_at = time.monotonic()
    if hold_first_line and not header and held:
        parts.insert(0, "".join(held))  # no newline ever came: it was all answer
    if error and parts:
        error = f"The answer was cut off: {error}"
    return StreamResult("".join(parts), status, error, stats, header[0] if header else "")


async def stream_reply(*, message_id: int, conversation_id: int, call: ModelCall) -> ReplyOutcome:
    """Stream a quick-mode answer; return what to save."""
    result = await run_stream(
        stream=events.message_stream(message_id), conversation_id=conversation_id, call=call
    )
    return outcome_of(result)


def _retrieve(task: asyncio.Future) -> None:
    if not task.cancelled():
        task.exception()  # retrieved, so asyncio does not log it as lost


def outcome_of(result: StreamResult, *, text: str | None = None) -> ReplyOutcome:
    stats = result.stats
    return ReplyOutcome(
        text=result.text if text is None else text,
        status=result.status,
        error=result.error,
        prompt_tokens=stats.prompt_tokens,
        completion_tokens=stats.completion_tokens,
        cost=stats.cost,
        ttft_ms=stats.ttft_ms,
        total_ms=stats.total_ms,
    )


async def publish_text(*, stream: str, conversation_id: int, text: str) -> None:
    """Show a whole text in a stream at once (a selected draft, a vote)."""
    publisher = FramePublisher(events.conversation_group(conversation_id), stream)
    await publisher.add(text)
    await publisher.flush()


async def announce(conversation_id: int, *events_to_send: dict, finished_streams: tuple[str, ...] = ()) -> None:
    """Tell the pages what changed (they re-render it from the database);
    streams that are final in the database drop their live snapshots. The
    database already holds the change, so a Redis restart only delays this:
    keep trying for a while rather than leave pages showing a stale state."""
    layer = get_channel_layer()
    group = events.conversation_group(conversation_id)
    give_up_at = time.monotonic() + ANNOUNCE_PATIENCE_SECONDS
    while True:
        try:
            if finished_streams:
                await livetext.clear(*finished_streams)
            for event in events_to_send:
                await layer.group_send(group, event)
            return
        except Exception:  # noqa: BLE001 - Redis is away; the pages catch up when they reconnect
            if time.monotonic() > give_up_at:
                raise
            log.warning("could not announce to %s yet; retrying", group)
            await asyncio.sleep(0.5)


async def announce_changed(*, conversation_id: int, message_id: int) -> None:
    await announce(
        conversation_id,
        events.message_changed(message_id),
        finished_streams=(events.message_stream(message_id),),
    )


async def warm_up() -> None:
    """Open the channel layer's, the stop listener's and the leases' Redis
    connections (and load the lease script) before the first answer."""
    await stopping.listen()
    await get_channel_layer().group_send("warm-up", {"type": "warm.up"})
    if await leases.claim("warm-up"):
        await leases.release("warm-up")
