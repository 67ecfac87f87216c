"""Leases: how a worker claims a stream, leaves a tombstone when it ends,
and how the reaper reads them. The pure parts, then the run's real Redis."""

import random

import pytest
import pytest_asyncio
from django.conf import settings as django_settings

from museapp.ops.redis_client import client_at, servers
from museapp.streams import leases
from museapp.streams.names import Stream, lease_key


def fresh_stream(kind: str = "msg") -> Stream:
    """An id no other test (or run) uses, so no lease collides."""
    return Stream(kind, random.randrange(10**12, 10**15))


# --- the pure parts -----------------------------------------------------------


@pytest.mark.parametrize("value, state", [
    (None, leases.MISSING),
    (b"ended", leases.ENDED),
    ("ended", leases.ENDED),
    (b"reaped", leases.REAPED),
    ("reaped", leases.REAPED),
    ("queued", leases.HELD),
    (b"queued", leases.HELD),
    ("web-1:4242:abcd1234", leases.HELD),
    (leases.OWNER.encode(), leases.HELD),
])
def test_a_lease_value_reads_as_its_state(value, state):
    assert leases.state_of(value) == state


def test_a_lease_is_renewed_four_times_per_lifetime(settings):
    settings.MUSE_LEASE_SECONDS = 20

    assert leases.ttl() == 20
    assert leases.renew_interval() == 5.0


@pytest.mark.parametrize("seconds", [0, -5, 0.5])
def test_a_lease_lives_at_least_a_second(settings, seconds):
    settings.MUSE_LEASE_SECONDS = seconds

    assert leases.ttl() == 1
    assert leases.renew_interval() == 0.25


@pytest.mark.asyncio
async def test_no_streams_have_no_states_without_asking_redis():
    assert await leases.states([]) == {}


# --- against Redis ------------------------------------------------------------


@pytest_asyncio.fixture
async def redis():
    """The leases' own Redis client; afterwards the renewer this test's claims
    started is cancelled and nothing stays in this process's held set."""
    held_before = set(leases._held)
    yield client_at(servers()[0], "stop")  # a test run has one stream Redis server
    renewer = leases._renewer
    if renewer is not None and not renewer.done():
        renewer.cancel()
        try:
            await renewer
        except BaseException:  # noqa: BLE001 - cancelled, as asked
            pass
    leases._held.intersection_update(held_before)
    await client_at(servers()[0], "stop").aclose()


async def value_of(redis, stream: Stream) -> str | None:
    value = await redis.get(lease_key(stream))
    return value.decode() if value is not None else None


@pytest.mark.asyncio
async def test_a_fresh_stream_can_be_claimed_and_is_then_held_by_this_process(redis):
    stream = fresh_stream()

    assert await leases.claim(stream) is True

    assert await value_of(redis, stream) == leases.OWNER
    assert 0 < await redis.ttl(lease_key(stream)) <= leases.ttl()
    assert stream in leases._held
    assert leases._renewer is not None and not leases._renewer.done()


@pytest.mark.asyncio
async def test_a_stream_this_process_already_holds_is_not_claimed_twice(redis):
    stream = fresh_stream()
    assert await leases.claim(stream) is True

    assert await leases.claim(stream) is False


@pytest.mark.asyncio
async def test_a_stream_another_worker_holds_cannot_be_claimed(redis):
    stream = fresh_stream("agent")
    await redis.set(lease_key(stream), "elsewhere:1:deadbeef", ex=30)

    assert await leases.claim(stream) is False

    assert await value_of(redis, stream) == "elsewhere:1:deadbeef"
    assert stream not in leases._held


@pytest.mark.asyncio
async def test_a_released_stream_leaves_a_tombstone_so_it_cannot_be_claimed_again(redis):
    stream = fresh_stream()
    assert await leases.claim(stream) is True

    await leases.release(stream)

    assert await value_of(redis, stream) == leases.ENDED
    assert leases.ttl() < await redis.ttl(lease_key(stream)) <= leases.tombstone_ttl()
    assert stream not in leases._held
    assert await leases.claim(stream) is False
    assert await value_of(redis, stream) == leases.ENDED


@pytest.mark.asyncio
async def test_a_stream_the_reaper_closed_cannot_be_claimed(redis):
    stream = fresh_stream()

    await leases.release(stream, state=leases.REAPED)

    assert await leases.claim(stream) is False
    assert await value_of(redis, stream) == leases.REAPED


@pytest.mark.asyncio
async def test_a_reserved_stream_is_queued_until_a_worker_claims_it(redis):
    first, second = fresh_stream(), fresh_stream("agent")

    await leases.reserve(first, second)

    assert await value_of(redis, first) == leases.QUEUED
    assert await value_of(redis, second) == leases.QUEUED
    assert 0 < await redis.ttl(lease_key(first)) <= max(1, int(django_settings.MUSE_QUEUE_GRACE))
    assert await leases.claim(first) is True
    assert await value_of(redis, first) == leases.OWNER
    assert await value_of(redis, second) == leases.QUEUED


@pytest.mark.asyncio
async def test_a_run_queued_late_gets_its_grace_anew_but_a_claimed_one_stays_claimed(redis):
    waiting, claimed = fresh_stream(), fresh_stream()
    await leases.reserve(waiting, claimed)
    await redis.expire(lease_key(waiting), 1)  # the hand-off waited for the broker
    assert await leases.claim(claimed) is True

    assert await leases.requeued(waiting) is True
    assert await leases.requeued(claimed) is False

    assert await redis.ttl(lease_key(waiting)) > 1
    assert await value_of(redis, claimed) == leases.OWNER, "a worker's claim is never taken back"


@pytest.mark.asyncio
async def test_states_reports_held_ended_reaped_and_missing(redis):
    running, queued, ended, reaped, missing = (fresh_stream() for _ in range(5))
    assert await leases.claim(running) is True
    await leases.reserve(queued)
    await leases.release(ended)
    await leases.release(reaped, state=leases.REAPED)

    states = await leases.states([running, queued, ended, reaped, missing])

    assert states == {running: leases.HELD, queued: leases.HELD, ended: leases.ENDED,
                      reaped: leases.REAPED, missing: leases.MISSING}
