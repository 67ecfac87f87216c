"""Muse's own Redis clients (besides Celery's and the channel layer's): an
async one per event loop, since a redis.asyncio pool belongs to the loop that
made it, and one sync client for views."""

import asyncio
import functools
import weakref

import redis.asyncio as aioredis
from django.conf import settings
from redis import Redis

def redis_key(*parts: str) -> str:
    """Every Redis key and channel of Muse's own starts with MUSE_REDIS_PREFIX."""
    return ":".join((settings.MUSE_REDIS_PREFIX, *parts))


_clients: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple[str, str], aioredis.Redis]]" = (
    weakref.WeakKeyDictionary()
)


def client(purpose: str = "streams") -> aioredis.Redis:
    """``purpose`` gives a separate pool: stop requests ("stop") must never
    wait behind the frames of busy streams."""
    loop = asyncio.get_running_loop()
    clients = _clients.setdefault(loop, {})
    key = (purpose, settings.REDIS_URL)
    redis = clients.get(key)
    if redis is None:
        redis = aioredis.from_url(settings.REDIS_URL, max_connections=200)
        clients[key] = redis
    return redis


def sync_client() -> Redis:
    """For sync views (the log-in throttle). Thread-safe; short timeouts so an
    unreachable Redis costs a request well under a second, not a hang."""
    return _sync_client(settings.REDIS_URL)


@functools.lru_cache(maxsize=4)
def _sync_client(url: str) -> Redis:
    return Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5, max_connections=50)
