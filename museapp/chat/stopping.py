"""Stop requests travel from the web process to whichever worker streams the
answer: a Redis key (for a stop that arrives before the stream starts) and a
pub/sub message (to stop a running stream at once). Each worker process has
one listener, on its event loop, that wakes the right stream."""

from __future__ import annotations

import asyncio
import logging

from museapp.chat import events
from museapp.ops.redis_client import client as _client

log = logging.getLogger(__name__)

STOP_TTL_SECONDS = 3600

_waiting: dict[int, asyncio.Event] = {}
_listener: asyncio.Task | None = None


async def request_stop(message_id: int) -> None:
    client = _client()
    await client.set(events.stop_key(message_id), "1", ex=STOP_TTL_SECONDS)
    await client.publish(events.STOP_CHANNEL, str(message_id))


async def listen() -> None:
    """Start this process's listener (idempotent); returns once subscribed."""
    global _listener
    if _listener is not None and not _listener.done():
        return
    pubsub = _client().pubsub(ignore_subscribe_messages=True)
    await pubsub.subscribe(events.STOP_CHANNEL)
    _listener = asyncio.create_task(_listen(pubsub), name="muse-stop-listener")


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
                await pubsub.subscribe(events.STOP_CHANNEL)
            except Exception:  # noqa: BLE001
                pass
            continue
        if not message:
            continue
        try:
            event = _waiting.get(int(message["data"]))
        except (TypeError, ValueError):
            continue
        if event is not None:
            event.set()


async def stop_event(message_id: int) -> asyncio.Event:
    """An event set when someone asks to stop this answer."""
    await listen()
    event = _waiting.setdefault(message_id, asyncio.Event())
    if await _client().exists(events.stop_key(message_id)):
        event.set()
    return event


def forget(message_id: int) -> None:
    _waiting.pop(message_id, None)
