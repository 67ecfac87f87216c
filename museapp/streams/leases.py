"""Leases: how Muse knows a stream is still being worked on.

A worker claims a stream (an answer, an agent's draft or a merge) before it
calls the model, and its process renews the claim every few seconds while the
stream runs. A worker that dies (SIGKILL, a lost machine) stops renewing, the
lease lapses, and the reaper (museapp/streams/reaper.py) closes the run as
interrupted. A run that ends leaves a tombstone, so a late redelivery of its
task (Celery re-queues the unacknowledged tasks of a dead worker) does not
run it twice.

Values of a lease key: a worker's token while it runs, ``queued`` for a run
that was handed to Celery and may wait in the queue a while (a merge, a
retry), ``ended`` once it ended and ``reaped`` once the reaper closed it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid

from django.conf import settings

from museapp.ops.redis_client import client
from museapp.streams.names import Stream, by_server, lease_key

log = logging.getLogger(__name__)

QUEUED, ENDED, REAPED = "queued", "ended", "reaped"
HELD, MISSING = "held", "missing"

OWNER = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"

_held: set[Stream] = set()
_renewer: asyncio.Task | None = None

# Take the lease if nobody holds it (or it is only queued); refuse a stream
# that another worker holds or that already ended.
_CLAIM = """
local value = redis.call('GET', KEYS[1])
if value == false or value == ARGV[2] then
  redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[3])
  return 1
end
return 0
"""

# Renew only leases that are still ours (or that a Redis restart lost).
_RENEW = """
for i, key in ipairs(KEYS) do
  local value = redis.call('GET', key)
  if value == false or value == ARGV[1] then
    redis.call('SET', key, ARGV[1], 'EX', ARGV[2])
  end
end
return 0
"""


def ttl() -> int:
    return max(1, int(settings.MUSE_LEASE_SECONDS))


def tombstone_ttl() -> int:
    """Longer than Celery keeps an unacknowledged task before redelivery."""
    return int(settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]) + 300


async def claim(stream: Stream) -> bool:
    """Take ``stream`` for this worker process; False when it must not run
    (held elsewhere, already ended, or closed by the reaper)."""
    if not await client(stream.name, "stop").eval(_CLAIM, 1, lease_key(stream), OWNER, QUEUED, ttl()):
        return False
    _held.add(stream)
    _start_renewing()
    return True


async def release(stream: Stream, *, state: str = ENDED) -> None:
    """The run is over (its result is saved): leave a tombstone."""
    _held.discard(stream)
    await client(stream.name, "stop").set(lease_key(stream), state, ex=tombstone_ttl())


async def reserve(*streams: Stream) -> None:
    """A run handed to Celery that may wait in the queue (a merge, a retry):
    covered until a worker claims it, or for ``MUSE_QUEUE_GRACE`` seconds."""
    for group in by_server(streams):
        async with client(group[0].name, "stop").pipeline(transaction=False) as pipe:
            for stream in group:
                pipe.set(lease_key(stream), QUEUED, ex=max(1, int(settings.MUSE_QUEUE_GRACE)))
            await pipe.execute()


async def requeued(stream: Stream) -> bool:
    """A reserved run was queued only now (its hand-off waited for the
    broker): a full ``MUSE_QUEUE_GRACE`` from now, unless a worker has
    claimed it already. False when it was claimed (or ended)."""
    grace = max(1, int(settings.MUSE_QUEUE_GRACE))
    # The claim's script, taking "queued" for "queued": a worker's claim is never taken back.
    return bool(await client(stream.name, "stop").eval(_CLAIM, 1, lease_key(stream), QUEUED, QUEUED, grace))


async def states(streams: list[Stream]) -> dict[Stream, str]:
    """For the reaper: HELD (someone runs or will run it), MISSING (nobody
    does), or ENDED / REAPED. Raises if Redis cannot be asked: not knowing is
    not the same as missing."""
    found: dict[Stream, str] = {}
    for group in by_server(streams):
        values = await client(group[0].name, "stop").mget([lease_key(stream) for stream in group])
        found.update({stream: state_of(value) for stream, value in zip(group, values)})
    return found


def state_of(value: bytes | str | None) -> str:
    """A lease key's value as the reaper reads it."""
    value = value.decode() if isinstance(value, bytes) else value
    if value is None:
        return MISSING
    return value if value in (ENDED, REAPED) else HELD


def renew_interval() -> float:
    """Renewed four times per lifetime: a renewal can fail twice and the
    lease still holds."""
    return ttl() / 4


def _start_renewing() -> None:
    global _renewer
    if _renewer is None or _renewer.done():
        _renewer = asyncio.get_running_loop().create_task(_renew(), name="muse-lease-renewer")


async def _renew() -> None:
    """Renew every lease this process holds, a few times per lease lifetime.
    A lease a Redis restart lost comes back; a tombstone is left alone."""
    while True:
        await asyncio.sleep(renew_interval())
        for streams in by_server(list(_held)):
            try:
                await client(streams[0].name, "stop").eval(_RENEW, len(streams), *[lease_key(s) for s in streams],
                                                           OWNER, ttl())
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - try again next round; the lease has slack
                log.warning("could not renew %d lease(s)", len(streams), exc_info=True)
