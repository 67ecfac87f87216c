"""Run one stream: the model's text to the page until it ends, fails, is
stopped, or reaches its deadline. Runs on the worker's event loop
(museapp/ops/loop.py); touches no database. Used for answers, agents'
drafts and the merge alike.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import time
from dataclasses import dataclass, field

from museapp.llm.adapter import ModelCall, ModelError, StreamStats, stream_completion
from museapp.streams import stopping
from museapp.streams.names import Stream
from museapp.streams.publisher import FramePublisher, counted_stream

log = logging.getLogger(__name__)

HEADER_MAX_CHARS = 160
CANCEL_GRACE_SECONDS = 0.5


class StreamStatus(enum.StrEnum):
    DONE = "done"
    ERROR = "error"
    STOPPED = "stopped"
    CUT_OFF = "cut_off"  # past its deadline


@dataclass
class StreamResult:
    text: str
    status: StreamStatus
    error: str = ""
    stats: StreamStats = field(default_factory=StreamStats)
    header: str = ""  # the held-back first line, when asked for


class FirstLineHold:
    """Keeps a stream's first line back from the page (a judge's verdict,
    ``Relied on: A, C``, before its answer). A first line longer than
    ``max_chars`` was no verdict: it is all answer."""

    def __init__(self, max_chars: int = HEADER_MAX_CHARS):
        self.max_chars = max_chars
        self.holding = True
        self.after_header = False  # blank lines between the header and the answer are dropped
        self.held: list[str] = []
        self.header = ""

    def feed(self, delta: str) -> str:
        """What of ``delta`` may be shown now ("" while holding)."""
        if self.holding:
            delta = self._hold(delta)
        if self.after_header:
            delta = delta.lstrip("\n")
            self.after_header = not delta
        return delta

    def _hold(self, delta: str) -> str:
        self.held.append(delta)
        joined = "".join(self.held)
        first, newline, rest = joined.partition("\n")
        if len(first) > self.max_chars:
            rest = joined  # no verdict line after all: it is all answer
        elif newline:
            self.header, self.after_header = first, True
        else:
            return ""
        self.holding = False
        self.held.clear()
        return rest

    def leftover(self) -> str:
        """Text still held when the stream ended: no newline ever came, so
        it was all answer."""
        return "".join(self.held) if self.holding else ""


@dataclass
class _Run:
    stream: Stream
    call: ModelCall
    publisher: FramePublisher | None
    hold: FirstLineHold | None
    stats: StreamStats = field(default_factory=StreamStats)
    parts: list[str] = field(default_factory=list)
    ended: bool = False  # set once the stream is over: the model's text must not go on

    async def consume(self) -> None:
        async for delta in stream_completion(self.call, self.stats):
            if self.ended:  # stopped or cut off, but the cancellation was swallowed below us
                log.info("stream %s went on after its cancellation; ended at its next chunk", self.stream)
                return
            delta = self.hold.feed(delta) if self.hold else delta
            if not delta:
                continue
            self.parts.append(delta)
            if self.publisher is not None:
                await self.publisher.add(delta)


async def run_stream(*, stream: Stream, conversation_id: int, call: ModelCall, deadline: float | None = None,
                     publish: bool = True, show_text: bool = True, hold_first_line: bool = False) -> StreamResult:
    """Stream ``call`` to the page as ``stream`` (with ``show_text`` False,
    its progress only). ``deadline`` is a time.time() value (it crosses
    processes). With ``hold_first_line`` the first line is kept back from
    the page and returned as ``header``."""
    publisher = FramePublisher(conversation_id, stream, show_text=show_text) if publish else None
    run = _Run(stream, call, publisher, FirstLineHold() if hold_first_line else None)
    stop = await stopping.stop_event(stream)
    with counted_stream():
        try:
            status, error = await _race(run, stop, deadline)
            if publisher is not None:
                await publisher.flush(final=True)
        finally:
            stopping.forget(stream)
    if status == StreamStatus.STOPPED:
        await stopping.clear(stream)
    return _outcome(run, status, error)


async def _race(run: _Run, stop: asyncio.Event, deadline: float | None) -> tuple[StreamStatus, str]:
    """The model's stream against a stop request and the deadline."""
    consumer = asyncio.ensure_future(run.consume())
    stopper = asyncio.ensure_future(stop.wait())
    try:
        timeout = None if deadline is None else max(deadline - time.time(), 0.0)
        await asyncio.wait({consumer, stopper}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        if consumer.done():
            return _ending_of(consumer.exception())
        run.ended = True
        await _cancel(consumer, run.stream)
        return (StreamStatus.STOPPED if stopper.done() else StreamStatus.CUT_OFF), ""
    finally:
        stopper.cancel()


def _ending_of(exc: BaseException | None) -> tuple[StreamStatus, str]:
    if exc is None:
        return StreamStatus.DONE, ""
    if isinstance(exc, ModelError):
        return StreamStatus.ERROR, exc.reason
    log.error("a stream failed", exc_info=exc)  # the class and traceback are for staff, not the page
    return StreamStatus.ERROR, "Muse failed while answering. Try again."


async def _cancel(consumer: asyncio.Future, stream: Stream) -> None:
    consumer.cancel()
    # The cancellation is not enough: below us (litellm's stream wrapper and
    # the HTTP client) it is sometimes swallowed and the model stream goes
    # on; with 20 streams stopped at once, 8 did. The ``ended`` flag makes
    # them end at their next chunk; we wait for that only briefly.
    await asyncio.wait({consumer}, timeout=CANCEL_GRACE_SECONDS)
    if not consumer.done():
        log.warning("stream %s ignored its cancellation; leaving it to end at its next chunk", stream)
        consumer.add_done_callback(_retrieve)


def _retrieve(task: asyncio.Future) -> None:
    if not task.cancelled():
        task.exception()  # retrieved, so asyncio does not log it as lost


def _outcome(run: _Run, status: StreamStatus, error: str) -> StreamResult:
    if run.stats.ended_at is None:
        run.stats.ended_at = time.monotonic()
    text = (run.hold.leftover() if run.hold else "") + "".join(run.parts)
    if error and text:
        error = f"The answer was cut off: {error}"
    return StreamResult(text, status, error, run.stats, run.hold.header if run.hold else "")
