"""A person's open chat sockets: at most MUSE_SOCKETS_PER_PERSON at once,
and each follows its session (log-out, deactivation and a password change
close it).

The open sockets are a sorted set in Redis per person (member: the
socket's channel name, score: when it lapses). A socket refreshes its entry
while it lives and removes it as it closes; a web process that died leaves
entries that lapse by themselves. Redis trouble lets sockets through.
"""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.utils.crypto import constant_time_compare
from django.utils.module_loading import import_string
from redis.exceptions import RedisError

from museapp.ops.redis_client import client, person, redis_key

log = logging.getLogger(__name__)

LAPSE_SECONDS = 90  # three missed refreshes

_OPEN = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if not redis.call('ZSCORE', KEYS[1], ARGV[4]) and redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
  return 0
end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[4])
redis.call('EXPIRE', KEYS[1], 2 * tonumber(ARGV[5]))
return 1
"""


def _key(user_id: int) -> str:
    return redis_key("sockets", str(int(user_id)))


async def opened(*, user_id: int, channel: str) -> bool:
    """Count (or refresh) this socket; False when the person has too many."""
    cap = settings.MUSE_SOCKETS_PER_PERSON
    if cap <= 0:
        return True
    now = time.time()
    try:
        return bool(await client(person(user_id)).eval(_OPEN, 1, _key(user_id), now, cap, now + LAPSE_SECONDS, channel,
                                        LAPSE_SECONDS))
    except RedisError:
        log.warning("could not count open sockets; letting this one through", exc_info=True)
        return True


async def closed(*, user_id: int, channel: str) -> None:
    try:
        await client(person(user_id)).zrem(_key(user_id), channel)
    except RedisError:
        log.warning("could not forget a closed socket; it lapses by itself", exc_info=True)


def session_is_valid(*, session_key: str | None, user_id: int) -> bool:
    """The session still logs this person in: it exists, names them, and
    its password hash is current; and the account is active."""
    if not session_key:
        return False
    data = import_string(f"{settings.SESSION_ENGINE}.SessionStore")(session_key).load()
    if str(data.get(SESSION_KEY)) != str(user_id):
        return False
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    return user is not None and constant_time_compare(data.get(HASH_SESSION_KEY, ""), user.get_session_auth_hash())
