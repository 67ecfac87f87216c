"""How often one person may start answers and browse: ``MUSE_RATE_MESSAGES``
for every answer (sent, retried, regenerated, edited, an agent retried, a
merge again), ``MUSE_RATE_CONTEMPLATIONS`` for contemplating runs, which cost
several model calls each, and ``MUSE_RATE_BROWSING`` for versions shown and
older messages loaded, which each render a whole branch. Counted in Redis per
person, by the turn services themselves, from the state they read."""

from __future__ import annotations


from museapp.chat.models import Conversation
from museapp.chat.services import InvalidMessage
from museapp.ops import ratelimit

MESSAGES = "You're sending messages faster than Muse allows ({rate}). Try again in {wait}."
CONTEMPLATIONS = "You're starting contemplating runs faster than Muse allows ({rate}). Try again in {wait}."
BROWSING = "You're flipping through messages faster than Muse allows ({rate}). Try again in {wait}."


class RateLimited(InvalidMessage):
    """A limit is reached; ``reason`` tells the person when to try again.
    Refused like any input Muse cannot take: nothing is saved."""


def _counter(setting: str, bucket: str, user_id: int, reason: str) -> list[tuple[ratelimit.Counter, str]]:
    return [(counter, reason) for counter in ratelimit.person_counters(setting, bucket, user_id)]


def _charge(counters: list[tuple[ratelimit.Counter, str]]) -> None:
    full = ratelimit.take([counter for counter, _ in counters])
    if full is not None:
        reason = dict(counters)[full.counter]
        raise RateLimited(reason.format(rate=full.counter.rate, wait=full.wait_text()))


def answer_charge(*, conversation: Conversation, contemplate: bool) -> None:
    """Count one answer against its person's limits, or raise RateLimited
    (and count nothing) when one is reached. An evaluation's answers are the
    operator's run (``manage.py evaluate``), not a person's, and count
    against nothing."""
    if conversation.is_evaluation:
        return
    user_id = conversation.user_id
    counters = _counter("MUSE_RATE_MESSAGES", "messages", user_id, MESSAGES)
    if contemplate:
        counters += _counter("MUSE_RATE_CONTEMPLATIONS", "contemplations", user_id, CONTEMPLATIONS)
    _charge(counters)


def browse_charge(*, user_id: int) -> None:
    """Count one branch rendered on request (a version shown, older messages
    loaded), or raise RateLimited."""
    _charge(_counter("MUSE_RATE_BROWSING", "browsing", user_id, BROWSING))
