"""The names of streams, channel-layer groups and Redis keys: spelled here
and nowhere else."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from museapp.ops.redis_client import redis_key, ring

Kind = Literal["msg", "agent"]
_NAME = re.compile(r"(msg|agent)-([1-9][0-9]*|0)")  # the one spelling of each name


@dataclass(frozen=True)
class Stream:
    """One run of model output on the page: an answer (``msg``) or one
    agent's draft (``agent``). Its name is also its element's DOM id, so
    ``<dom_id>-body`` receives its tokens."""

    kind: Kind
    id: int

    @classmethod
    def answer(cls, message_id: int) -> Stream:
        return cls("msg", int(message_id))

    @classmethod
    def agent(cls, run_id: int) -> Stream:
        return cls("agent", int(run_id))

    @classmethod
    def parse(cls, name: str) -> Stream | None:
        match = _NAME.fullmatch(name)
        return cls(match[1], int(match[2])) if match else None  # type: ignore[arg-type]

    @property
    def name(self) -> str:
        return f"{self.kind}-{self.id}"

    @property
    def dom_id(self) -> str:
        return self.name

    @property
    def is_agent(self) -> bool:
        return self.kind == "agent"

    def __str__(self) -> str:
        return self.name


def conversation_group(conversation_id: int) -> str:
    """The channel-layer group every page of a conversation listens to."""
    return f"conversation.{int(conversation_id)}"


def person_group(user_id: int) -> str:
    """The group of every chat socket one person has open (session changes)."""
    return f"person.{int(user_id)}"


def stop_channel() -> str:
    """Redis pub/sub channel carrying the names of streams to stop."""
    return redis_key("stop")


def stop_key(stream: Stream) -> str:
    return redis_key("stop", stream.name)


def lease_key(stream: Stream) -> str:
    return redis_key("lease", stream.name)


def live_keys(stream: Stream) -> tuple[str, str]:
    """The live text of a stream and the sequence number of its last frame."""
    return redis_key("live", stream.name, "text"), redis_key("live", stream.name, "seq")


def by_server(streams: Iterable[Stream]) -> list[list[Stream]]:
    """``streams`` grouped by the stream Redis server that holds their keys
    (one group with a single server), for commands over many keys."""
    return list(ring().split(streams, lambda stream: stream.name).values())
