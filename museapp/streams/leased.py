"""The leased run: how every task that streams (an answer, an agent, the
merge) claims its stream, runs, releases it and announces the end. Called
from Celery's threads; the stream itself runs on the process's event loop."""

from __future__ import annotations

from collections.abc import Callable

from museapp.ops import loop
from museapp.streams import leases
from museapp.streams.announce import announce_ended
from museapp.streams.names import Stream

SKIPPED = "skipped"


def run_leased(stream: Stream, *, conversation_id: int, work: Callable[[], str]) -> str:
    """Claim ``stream``'s lease, do ``work`` (stream and save; returns a
    status), release the lease and tell the pages. Returns SKIPPED, doing
    nothing, for a redelivery of a run that ended or that another worker
    holds."""
    if not loop.run(leases.claim(stream)):
        return SKIPPED
    try:
        status = work()
    finally:
        loop.run(leases.release(stream))
    loop.run(announce_ended(conversation_id, stream))
    return status
