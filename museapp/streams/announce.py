"""Telling pages what changed: they re-render it from the database."""

from __future__ import annotations

import asyncio
import logging
import time

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from museapp.streams import events, livetext
from museapp.streams.names import Stream, conversation_group

log = logging.getLogger(__name__)

ANNOUNCE_PATIENCE_SECONDS = 30.0


async def announce(conversation_id: int, *events_to_send: events.Event,
                   finished_streams: tuple[Stream, ...] = ()) -> None:
    """Send ``events_to_send`` to the conversation's pages; streams final in
    the database drop their live snapshots. The database already holds the
    change, so a Redis restart only delays this: keep trying for a while
    rather than leave pages showing a stale state."""
    layer = get_channel_layer()
    group = conversation_group(conversation_id)
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


async def announce_ended(conversation_id: int, stream: Stream) -> None:
    """The stream is final in the database: pages re-render it from there."""
    await announce(conversation_id, events.changed(stream), finished_streams=(stream,))


def announce_on_commit(conversation_id: int, event: events.Event) -> None:
    """Send ``event`` to the conversation's pages once the caller's
    transaction commits (the change is in the database by then). Tried once:
    a page that misses it, Redis being away, catches up when it reconnects,
    and the person's action has already succeeded."""
    transaction.on_commit(lambda: _send_once(conversation_id, event))


def _send_once(conversation_id: int, event: events.Event) -> None:
    try:
        async_to_sync(get_channel_layer().group_send)(conversation_group(conversation_id), event)
    except Exception:  # noqa: BLE001 - see announce_on_commit
        log.warning("could not announce %s to conversation %s", event["type"], conversation_id, exc_info=True)
