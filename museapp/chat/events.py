"""The one module that names channel-layer groups, streams and event types.

Events are plain dicts with a ``type`` (Channels dispatches ``chat.tokens`` to
the consumer's ``chat_tokens``). Workers and consumers both go through here.

A *stream* is one run of model output shown on the page: an answer
(``msg-<id>``) or one agent's draft (``agent-<id>``). Its name is also the id
prefix of its element on the page, so ``<stream>-body`` receives its tokens.
"""

TOKENS = "chat.tokens"  # text appended to a stream
MESSAGE_CHANGED = "chat.message_changed"  # re-render one message from the database
AGENT_CHANGED = "chat.agent_changed"  # re-render one agent's panel
TURN = "chat.turn"  # a new user message and its answer placeholder

from django.conf import settings


def redis_key(*parts: str) -> str:
    return ":".join((settings.MUSE_REDIS_PREFIX, *parts))


def stop_channel() -> str:
    """Redis pub/sub channel carrying the names of streams to stop."""
    return redis_key("stop")


def conversation_group(conversation_id: int) -> str:
    return f"conversation.{int(conversation_id)}"


def message_stream(message_id: int) -> str:
    return f"msg-{int(message_id)}"


def agent_stream(run_id: int) -> str:
    return f"agent-{int(run_id)}"


def stop_key(stream: str) -> str:
    return redis_key("stop", stream)


def tokens(stream: str, text: str, seq: int, count: int, elapsed_ms: float) -> dict:
    return {"type": TOKENS, "stream": stream, "text": text, "seq": seq,
            "count": count, "elapsed_ms": elapsed_ms}


def message_changed(message_id: int) -> dict:
    return {"type": MESSAGE_CHANGED, "message_id": message_id}


def agent_changed(run_id: int) -> dict:
    return {"type": AGENT_CHANGED, "run_id": run_id}


def turn(user_message_id: int | None, assistant_message_id: int, origin: str) -> dict:
    return {
        "type": TURN,
        "user_message_id": user_message_id,
        "assistant_message_id": assistant_message_id,
        "origin": origin,
    }
