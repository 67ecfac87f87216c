"""The text of answers still streaming, kept in Redis beside the frames.

Each frame's text is appended here (with its sequence number) before the
frame is published. A page that (re)connects subscribes first, then reads
this snapshot, then drops frames the snapshot already covers: nothing is
lost and nothing is doubled. The database holds the text once it is final.
"""

from __future__ import annotations

from museapp.ops.redis_client import client

TTL_SECONDS = 6 * 3600


def _keys(message_id: int) -> tuple[str, str]:
    return f"muse:live:{int(message_id)}:text", f"muse:live:{int(message_id)}:seq"


async def record(message_id: int, text: str, seq: int) -> None:
    text_key, seq_key = _keys(message_id)
    async with client().pipeline(transaction=True) as pipe:
        pipe.append(text_key, text.encode())
        pipe.set(seq_key, seq)
        pipe.expire(text_key, TTL_SECONDS)
        pipe.expire(seq_key, TTL_SECONDS)
        await pipe.execute()


async def snapshot(message_id: int) -> tuple[str, int]:
    """The text streamed so far and the sequence number of its last frame."""
    text, seq = await client().mget(*_keys(message_id))
    return (text or b"").decode("utf-8", errors="replace"), int(seq or 0)


async def clear(message_id: int) -> None:
    await client().delete(*_keys(message_id))
