"""The events the web process receives over the channel layer: the schema.

Events are plain dicts with a ``type`` (Channels dispatches ``chat.tokens``
to the consumer's ``chat_tokens``). Workers build them here and nowhere
else; ``check`` holds an event against its TypedDict (tests use it on every
event they see).
"""

from __future__ import annotations

import uuid
from typing import Literal, TypedDict, get_type_hints

from museapp.streams.names import Stream

TOKENS = "chat.tokens"  # text appended to a stream
MESSAGE_CHANGED = "chat.message_changed"  # re-render one message from the database
AGENT_CHANGED = "chat.agent_changed"  # re-render one agent's panel
TURN = "chat.turn"  # a new user message and its answer placeholder
SESSION_CHANGED = "chat.session_changed"  # a person's session or account changed: sockets re-check
BRANCH_CHANGED = "chat.branch_changed"  # the branch shown changed (a version picked, regenerated, edited)


class Tokens(TypedDict):
    type: Literal["chat.tokens"]
    stream: str  # a Stream's name
    text: str
    html: str  # the whole text so far as Markdown (museapp/streams/markdown.py), or "" for text to append
    seq: int  # this frame's number in its stream, from 1
    count: int  # tokens streamed so far
    elapsed_ms: float


class MessageChanged(TypedDict):
    type: Literal["chat.message_changed"]
    message_id: int
    event_id: str  # one per sending: the sockets of a web process load the change once


class AgentChanged(TypedDict):
    type: Literal["chat.agent_changed"]
    run_id: int
    event_id: str


class Turn(TypedDict):
    type: Literal["chat.turn"]
    user_message_id: int | None  # None for a retry
    assistant_message_id: int
    origin: str  # the sender's channel name: it has the turn already


class SessionChanged(TypedDict):
    type: Literal["chat.session_changed"]
    ended_session: str  # a session that just ended (log-out), or "": re-check every session


class BranchChanged(TypedDict):
    type: Literal["chat.branch_changed"]
    event_id: str


Event = Tokens | MessageChanged | AgentChanged | Turn | SessionChanged | BranchChanged
SCHEMA: dict[str, type] = {TOKENS: Tokens, MESSAGE_CHANGED: MessageChanged, AGENT_CHANGED: AgentChanged, TURN: Turn,
                           SESSION_CHANGED: SessionChanged, BRANCH_CHANGED: BranchChanged}


def tokens(stream: Stream, text: str, html: str, seq: int, count: int, elapsed_ms: float) -> Tokens:
    return {"type": TOKENS, "stream": stream.name, "text": text, "html": html, "seq": seq, "count": count,
            "elapsed_ms": elapsed_ms}


def message_changed(message_id: int) -> MessageChanged:
    return {"type": MESSAGE_CHANGED, "message_id": message_id, "event_id": uuid.uuid4().hex}


def agent_changed(run_id: int) -> AgentChanged:
    return {"type": AGENT_CHANGED, "run_id": run_id, "event_id": uuid.uuid4().hex}


def changed(stream: Stream) -> MessageChanged | AgentChanged:
    """The event that has pages re-render a stream's element from the database."""
    return agent_changed(stream.id) if stream.is_agent else message_changed(stream.id)


def turn(user_message_id: int | None, assistant_message_id: int, origin: str) -> Turn:
    return {"type": TURN, "user_message_id": user_message_id,
            "assistant_message_id": assistant_message_id, "origin": origin}


def session_changed(ended_session: str = "") -> SessionChanged:
    return {"type": SESSION_CHANGED, "ended_session": ended_session}


def branch_changed() -> BranchChanged:
    return {"type": BRANCH_CHANGED, "event_id": uuid.uuid4().hex}


def check(event: dict) -> None:
    """Raise ValueError unless ``event`` has exactly its type's fields, each
    of the declared type."""
    schema = SCHEMA.get(event.get("type"))
    if schema is None:
        raise ValueError(f"unknown event type {event.get('type')!r}")
    hints = get_type_hints(schema)
    if set(event) != set(hints):
        raise ValueError(f"{event['type']}: fields {sorted(event)}, expected {sorted(hints)}")
    for name, hint in hints.items():
        allowed = tuple(t for t in getattr(hint, "__args__", (hint,)) if isinstance(t, type))
        value = event[name]
        if allowed and (not isinstance(value, allowed) or isinstance(value, bool)):
            raise ValueError(f"{event['type']}.{name}: {value!r} is not {hint}")
