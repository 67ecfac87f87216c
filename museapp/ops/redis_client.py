"""Muse's own Redis client (besides Celery's and the channel layer's): one per
event loop, since a redis.asyncio pool belongs to the loop that made it."""

import asyncio
import weakref

import redis.asyncio as aioredis
from django.conf import settings

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
