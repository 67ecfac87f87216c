"""How often one person may start answers: ``MUSE_RATE_MESSAGES`` for every
answer (sent or retried) and ``MUSE_RATE_CONTEMPLATIONS`` for contemplating
runs, which cost several model calls each. Counted in Redis per user."""

from __future__ import annotations

from django.conf import settings

from museapp.ops import ratelimit
from museapp.ops.redis_client import redis_key

MESSAGES = "You're sending messages faster than Muse allows ({rate}). Try again in {wait}."
CONTEMPLATIONS = "You're starting contemplating runs faster than Muse allows ({rate}). Try again in {wait}."


class RateLimited(Exception):
    """A limit is reached; ``reason`` tells the person when to try again."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def _counters(user_id: int, contemplate: bool) -> list[tuple[ratelimit.Counter, str]]:
    counters = []
    messages = ratelimit.parse_rate(settings.MUSE_RATE_MESSAGES, "MUSE_RATE_MESSAGES")
    if messages:
        counters.append((ratelimit.Counter(redis_key("rate", "messages", str(user_id)), messages), MESSAGES))
    contemplations = ratelimit.parse_rate(settings.MUSE_RATE_CONTEMPLATIONS, "MUSE_RATE_CONTEMPLATIONS")
    if contemplate and contemplations:
        key = redis_key("rate", "contemplations", str(user_id))
        counters.append((ratelimit.Counter(key, contemplations), CONTEMPLATIONS))
    return counters


async def turn_count(*, user_id: int, contemplate: bool) -> None:
    """Count one answer against the person's limits, or raise RateLimited
    (and count nothing) when one is reached."""
    counters = _counters(user_id, contemplate)
    full = await ratelimit.take([counter for counter, _ in counters])
    if full is not None:
        reason = dict(counters)[full.counter]
        raise RateLimited(reason.format(rate=full.counter.rate, wait=full.wait_text()))
