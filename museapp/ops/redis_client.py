"""Muse's own Redis client (besides Celery's and the channel layer's): one per
event loop, since a redis.asyncio pool belongs to the loop that made it."""

import asyncio
import weakref

import redis.asyncio as aioredis
from django.conf import settings

_clients: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, aioredis.Redis]" = (
    weakref.WeakKeyDictionary()
)


def client() -> aioredis.Redis:
    loop = asyncio.get_running_loop()
    redis = _clients.get(loop)
    if redis is None:
        redis = aioredis.from_url(settings.REDIS_URL, max_connections=200)
        _clients[loop] = redis
    return redis
