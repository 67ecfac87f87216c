"""Muse's own Redis clients (besides Celery's and the channel layer's): an
async one per event loop, since a redis.asyncio pool belongs to the loop that
made it, and one sync client for views.

Stream state may be spread over several Redis servers (``STREAM_REDIS_URLS``,
museapp/ops/shards.py): every client is asked for by what its keys belong to
(``on``: a stream's name, or a person's place), and keys used together in
one command or script must share that.
"""

import asyncio
import functools
import weakref

import redis.asyncio as aioredis
from django.conf import settings
from redis import Redis

from museapp.ops.shards import Ring, ring_of


def redis_key(*parts: str) -> str:
    """Every Redis key and channel of Muse's own starts with MUSE_REDIS_PREFIX."""
    return ":".join((settings.MUSE_REDIS_PREFIX, *parts))


def person(user_id: int) -> str:
    """Where one person's keys live (answers in progress, open sockets, rate
    counters): the same place as their channel-layer group."""
    return f"person.{int(user_id)}"


def ring() -> Ring:
    return ring_of(tuple(settings.STREAM_REDIS_URLS))


def servers() -> tuple[str, ...]:
    """Every stream Redis server (for what listens on all of them)."""
    return ring().urls


_clients: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple[str, str], aioredis.Redis]]" = (
    weakref.WeakKeyDictionary()
)


def client(on: str, purpose: str = "streams") -> aioredis.Redis:
    """The async client of the server that holds ``on``'s keys. ``purpose``
    gives a separate pool: stop requests ("stop") must never wait behind the
    frames of busy streams."""
    return client_at(ring().url_for(on), purpose)


def client_at(url: str, purpose: str = "streams") -> aioredis.Redis:
    loop = asyncio.get_running_loop()
    clients = _clients.setdefault(loop, {})
    redis = clients.get((purpose, url))
    if redis is None:
        redis = aioredis.from_url(url, max_connections=200)
        clients[(purpose, url)] = redis
    return redis


def sync_client(on: str) -> Redis:
    """For sync code (views, turns). Thread-safe; short timeouts so an
    unreachable Redis costs a request well under a second, not a hang."""
    return sync_client_at(ring().url_for(on))


@functools.lru_cache(maxsize=16)
def sync_client_at(url: str) -> Redis:
    return Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5, max_connections=50)
