"""The text of answers still streaming, kept in Redis beside the frames.

Each frame's text is appended here (with its sequence number) before the
frame is published. A page that (re)connects subscribes first, then reads
this snapshot, then drops frames the snapshot already covers: nothing is
lost and nothing is doubled. The database holds the text once it is final.
"""

from __future__ import annotations

from museapp.chat.events import redis_key
from museapp.ops.redis_client import client

TTL_SECONDS = 6 * 3600


def _keys(stream: str) -> tuple[str, str]:
    return redis_key("live", stream, "text"), redis_key("live", stream, "seq")


async def record(stream: str, text: str, seq: int) -> None:
    text_key, seq_key = _keys(stream)
    # One round trip; MULTI keeps text and number consistent for a reader.
    async with client().pipeline(transaction=True) as pipe:
        pipe.append(text_key, text.encode())
        if seq == 1:  # the keys are new: give them a lifetime once
            pipe.set(seq_key, seq, ex=TTL_SECONDS)
            pipe.expire(text_key, TTL_SECONDS)
        else:
            pipe.set(seq_key, seq, keepttl=True)
        await pipe.execute()


async def snapshot(stream: str) -> tuple[str, int]:
    """The text streamed so far and the sequence number of its last frame."""
    text, seq = await client().mget(*_keys(stream))
    return (text or b"").decode("utf-8", errors="replace"), int(seq or 0)


async def clear(*streams: str) -> None:
    if streams:
        await client().delete(*[key for stream in streams for key in _keys(stream)])
