"""Muse's own Redis clients (besides Celery's and the channel layer's): an
async one per event loop, since a redis.asyncio pool belongs to the loop that
made it, and one sync client for views."""

import asyncio
import functools
import weakref

import redis.asyncio as aioredis
from django.conf import settings
from redis import Redis

_clients: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, aioredis.Redis]]" = (
    weakref.WeakKeyDictionary()
)


def client(purpose: str = "streams") -> aioredis.Redis:
    """``purpose`` gives a separate pool: stop requests ("stop") must never
    wait behind the frames of busy streams."""
    loop = asyncio.get_running_loop()
    clients = _clients.setdefault(loop, {})
    redis = clients.get(purpose)
    if redis is None:
        redis = aioredis.from_url(settings.REDIS_URL, max_connections=200)
        clients[purpose] = redis
    return redis


@functools.lru_cache(maxsize=1)
def sync_client() -> Redis:
    """For sync views (the log-in throttle). Thread-safe; short timeouts so an
    unreachable Redis costs a request well under a second, not a hang."""
    return Redis.from_url(
        settings.REDIS_URL, socket_timeout=0.5, socket_connect_timeout=0.5, max_connections=50
    )
