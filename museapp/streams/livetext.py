"""The text of streams still running, kept in Redis beside the frames.

Each frame's text is appended here (with its sequence number) before the
frame is published. A page that (re)connects subscribes first, then reads
this snapshot, then drops frames the snapshot already covers: nothing is
lost and nothing is doubled. The database holds the text once it is final.
"""

from __future__ import annotations

from museapp.ops.redis_client import client
from museapp.streams.names import Stream, by_server, live_keys

TTL_SECONDS = 6 * 3600


async def record(stream: Stream, text: str, seq: int, *, recorded_bytes: int) -> bool:
    """Append ``text`` as frame ``seq``; ``recorded_bytes`` is how much was
    recorded before. Returns False when Redis held something else (it
    restarted and lost the earlier text): then call ``rewrite``."""
    text_key, seq_key = live_keys(stream)
    data = text.encode()
    # One round trip; MULTI keeps text and number consistent for a reader.
    async with client(stream.name).pipeline(transaction=True) as pipe:
        pipe.append(text_key, data)
        if seq == 1:  # the keys are new: give them a lifetime once
            pipe.set(seq_key, seq, ex=TTL_SECONDS)
            pipe.expire(text_key, TTL_SECONDS)
        else:
            pipe.set(seq_key, seq, keepttl=True)
        length = (await pipe.execute())[0]
    return length == recorded_bytes + len(data)


async def rewrite(stream: Stream, text: str, seq: int) -> None:
    """Record the whole text anew (after a Redis restart lost it)."""
    text_key, seq_key = live_keys(stream)
    async with client(stream.name).pipeline(transaction=True) as pipe:
        pipe.set(text_key, text.encode(), ex=TTL_SECONDS)
        pipe.set(seq_key, seq, ex=TTL_SECONDS)
        await pipe.execute()


async def snapshot(stream: Stream) -> tuple[str, int]:
    """The text streamed so far and the sequence number of its last frame."""
    text, seq = await client(stream.name).mget(*live_keys(stream))
    return (text or b"").decode("utf-8", errors="replace"), int(seq or 0)


async def clear(*streams: Stream) -> None:
    for group in by_server(streams):
        await client(group[0].name).delete(*[key for stream in group for key in live_keys(stream)])
