"""How many answers each person has in progress: a cap on concurrent work,
where a rate limit only caps how often work starts.

A person's answers in progress are a sorted set in Redis (member: the
answer's stream, score: when the entry lapses by itself). A turn takes a
slot in its transaction, so a refused turn saves nothing. The slot is taken
provisionally, lapsing within ``MUSE_SLOT_PROVISIONAL`` seconds, and kept
for the longest an answer can live once that transaction commits: a turn
rolled back after taking its slot (by its own error or its caller's) gives
it back by itself. Every end releases it (the answer's or the merge's task,
the reaper, a deleted conversation). An entry whose release was lost (a
Redis restart, a bug) lapses after the longest an answer can live. Redis
trouble lets people through, like the rate limits.
"""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.db import transaction
from redis.exceptions import RedisError

from museapp.ops.redis_client import client, person, redis_key, sync_client
from museapp.streams.names import Stream

log = logging.getLogger(__name__)

# Add ARGV[4] lapsing at ARGV[3] (seconds), and make the key itself last at
# least as long (Redis 6 has no EXPIREAT ... GT; the embedded one is 6.2).
_ADD = """
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[4])
local wanted = math.ceil(tonumber(ARGV[3]) - tonumber(ARGV[1]))
if redis.call('TTL', KEYS[1]) < wanted then redis.call('EXPIRE', KEYS[1], wanted) end
return 1
"""
# Drop lapsed entries; refuse when the person is at the cap; else take a slot.
_TAKE = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZSCORE', KEYS[1], ARGV[4]) then return 1 end
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
""" + _ADD


def _key(owner_id: int) -> str:
    return redis_key("running", str(int(owner_id)))


def longest_answer_seconds() -> float:
    """The longest an answer can be in progress: queued, contemplated, merged."""
    return (settings.MUSE_QUEUE_GRACE + settings.MUSE_ANSWER_DEADLINE + settings.MUSE_CONTEMPLATE_DEADLINE
            + settings.MUSE_MERGE_DEADLINE + 60)


def take(*, owner_id: int, stream: Stream) -> bool:
    """Take one of the person's slots for ``stream``; False at the cap.
    Provisional until the caller's transaction commits (see above)."""
    cap = settings.MUSE_MAX_RUNNING_ANSWERS
    if cap <= 0:
        return True
    now = time.time()
    try:
        taken = bool(sync_client(person(owner_id)).eval(_TAKE, 1, _key(owner_id), now, cap, now + settings.MUSE_SLOT_PROVISIONAL,
                                        stream.name))
    except RedisError:
        log.warning("could not count answers in progress; letting the turn through", exc_info=True)
        return True
    if taken:
        transaction.on_commit(lambda: _keep(owner_id, stream))
    return taken


def _keep(owner_id: int, stream: Stream) -> None:
    """The turn committed: its slot lasts as long as an answer can."""
    now = time.time()
    try:
        sync_client(person(owner_id)).eval(_ADD, 1, _key(owner_id), now, 0, now + longest_answer_seconds(), stream.name)
    except RedisError:
        log.warning("could not keep %s's slot; it lapses soon by itself", stream, exc_info=True)


async def release(*, owner_id: int, stream: Stream) -> None:
    try:
        await client(person(owner_id), "stop").zrem(_key(owner_id), stream.name)
    except RedisError:
        log.warning("could not release %s's slot; it lapses by itself", stream, exc_info=True)
