"""Stop requests travel from the web process to whichever worker runs the
stream (an answer or an agent's draft): a Redis key (for a stop that
arrives before the stream starts) and a pub/sub message (to stop a running stream at once). Each worker process has
one listener, on its event loop, that wakes the right stream, and one poller
that reads the stop keys of all its streams in one round trip twice a second:
pub/sub keeps nothing for a subscriber that was disconnected, and redis-py
resubscribes without telling us, so a stop sent meanwhile lives on only in
its key."""

from __future__ import annotations

import asyncio
import logging

from museapp.ops.redis_client import client, client_at, servers
from museapp.streams.names import Stream, by_server, stop_channel, stop_key

log = logging.getLogger(__name__)

STOP_TTL_SECONDS = 3600

_waiting: dict[Stream, asyncio.Event] = {}
_listeners: dict[str, asyncio.Task] = {}  # one per stream Redis server
_poller: asyncio.Task | None = None


def _client(stream: Stream):
    return client(stream.name, "stop")


async def request_stop(*streams: Stream) -> None:
    """On the server that holds each stream: a stop is published where the
    worker running that stream listens."""
    for group in by_server(streams):
        async with _client(group[0]).pipeline(transaction=False) as pipe:
            for stream in group:
                pipe.set(stop_key(stream), "1", ex=STOP_TTL_SECONDS)
                pipe.publish(stop_channel(), stream.name)
            await pipe.execute()


async def clear(*streams: Stream) -> None:
    """Forget old stop requests (a retried answer reuses its stream's name)."""
    for group in by_server(streams):
        await _client(group[0]).delete(*[stop_key(stream) for stream in group])


async def is_requested(stream: Stream) -> bool:
    return bool(await _client(stream).exists(stop_key(stream)))


async def listen() -> None:
    """Start this process's listeners (one per stream server) and its
    poller (idempotent); returns once subscribed."""
    global _poller
    for url in servers():
        listener = _listeners.get(url)
        if listener is None or listener.done():
            pubsub = client_at(url, "stop").pubsub(ignore_subscribe_messages=True)
            await pubsub.subscribe(stop_channel())
            _listeners[url] = asyncio.create_task(_listen(pubsub), name=f"muse-stop-listener-{len(_listeners)}")
    if _poller is None or _poller.done():
        _poller = asyncio.create_task(_poll(), name="muse-stop-poller")


async def _listen(pubsub) -> None:
    while True:
        try:
            message = await pubsub.get_message(timeout=5.0)
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - a Redis hiccup must not kill the listener
            log.warning("stop listener lost Redis; resubscribing", exc_info=True)
            await asyncio.sleep(0.5)
            try:
                await pubsub.reset()
                await pubsub.subscribe(stop_channel())
            except Exception:  # noqa: BLE001
                pass
            continue
        if not message:
            continue
        data = message["data"]
        stream = Stream.parse(data.decode() if isinstance(data, bytes) else str(data))
        event = _waiting.get(stream) if stream else None
        if event is not None:
            event.set()


async def stop_event(stream: Stream) -> asyncio.Event:
    """An event set when someone asks to stop this stream."""
    await listen()
    event = _waiting.setdefault(stream, asyncio.Event())
    if await is_requested(stream):
        event.set()
    return event


def forget(stream: Stream) -> None:
    _waiting.pop(stream, None)


POLL_SECONDS = 0.5


async def _poll() -> None:
    while True:
        await asyncio.sleep(POLL_SECONDS)
        for streams in by_server(stream for stream, event in _waiting.items() if not event.is_set()):
            try:
                values = await _client(streams[0]).mget([stop_key(stream) for stream in streams])
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - a Redis hiccup is not a stop request
                log.warning("could not read the stop keys of %d stream(s)", len(streams), exc_info=True)
                continue
            for stream, value in zip(streams, values):
                event = _waiting.get(stream)
                if value and event is not None and not event.is_set():
                    log.info("stop for %s arrived by polling, not by pub/sub", stream)
                    event.set()
