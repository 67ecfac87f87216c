"""The one module that names channel-layer groups and event types.

Events are plain dicts with a ``type`` (Channels dispatches ``chat.tokens`` to
the consumer's ``chat_tokens``). Workers and consumers both go through here.
"""

TOKENS = "chat.tokens"  # text appended to a streaming answer
MESSAGE_CHANGED = "chat.message_changed"  # re-render one message from the database
TURN = "chat.turn"  # a new user message and its answer placeholder

STOP_CHANNEL = "muse:stop"  # Redis pub/sub: ids of answers to stop


def conversation_group(conversation_id: int) -> str:
    return f"conversation.{int(conversation_id)}"


def stop_key(message_id: int) -> str:
    return f"muse:stop:{int(message_id)}"


def tokens(message_id: int, text: str, seq: int) -> dict:
    return {"type": TOKENS, "message_id": message_id, "text": text, "seq": seq}


def message_changed(message_id: int) -> dict:
    return {"type": MESSAGE_CHANGED, "message_id": message_id}


def turn(user_message_id: int | None, assistant_message_id: int, origin: str) -> dict:
    return {
        "type": TURN,
        "user_message_id": user_message_id,
        "assistant_message_id": assistant_message_id,
        "origin": origin,
    }
