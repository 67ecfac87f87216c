"""The reaper: every worker process looks, every few seconds, for runs that
the database says are going on but that no live worker holds (their lease
lapsed: museapp/streams/leases.py), and closes them.

It knows no domain: each app registers its kinds of run (``register``): how
to find the ones still open, and how to close one (museapp/chat/reaping.py,
museapp/agents/reaping.py). This also covers a full restart: the new
workers find what the old ones left. A run is closed only after its lease
has been missing for half a lease lifetime on two looks, so a Redis restart
(which loses every lease until the owners renew them) closes nothing.
Several workers may reap at once: every close is a conditional update, so
each run is closed once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone

from museapp.ops import loop
from museapp.streams import leases
from museapp.streams.names import Stream

log = logging.getLogger(__name__)

Key = tuple[str, int]  # (kind of run, its id)


@dataclass(frozen=True)
class RunKind:
    name: str
    # Runs the database says are open; only those started before the given
    # time (older than the queue's grace), each with the stream whose lease
    # covers it (None: no lease covers it, e.g. a contemplation to settle).
    open_runs: Callable[[datetime], dict[int, Stream | None]]
    close: Callable[[int, Stream | None], None]  # conditional: a run that ended meanwhile stays as it is


@dataclass(frozen=True)
class Chore:
    """Housekeeping the reaper's thread also does, every ``every`` seconds
    (first as the worker starts), e.g. expiring temporary chats. Every
    worker does it: a chore must be safe to run twice at once."""
    name: str
    every: float
    run: Callable[[], object]


_kinds: dict[str, RunKind] = {}
_chores: dict[str, Chore] = {}
_thread: threading.Thread | None = None


def register(kind: RunKind) -> None:
    _kinds[kind.name] = kind


def register_chore(chore: Chore) -> None:
    _chores[chore.name] = chore


def start() -> None:
    """Start this process's reaper thread (idempotent)."""
    global _thread
    if _thread is None or not _thread.is_alive():
        _thread = threading.Thread(target=_run, name="muse-reaper", daemon=True)
        _thread.start()


def _run() -> None:
    reaper = Reaper()
    chores = Chores()
    while True:
        for round_of in (reaper.look, chores.do_due):
            try:
                round_of()
            except Exception:  # noqa: BLE001 - the reaper must outlive a bad round (DB or Redis down)
                log.warning("reaper round failed", exc_info=True)
            finally:
                close_old_connections()
        time.sleep(leases.renew_interval())


class Chores:
    def __init__(self) -> None:
        self.due: dict[str, float] = {}

    def do_due(self) -> list[str]:
        """Run the chores whose time has come; returns their names."""
        now = time.monotonic()
        done = [chore for chore in _chores.values() if now >= self.due.get(chore.name, now)]
        for chore in done:
            self.due[chore.name] = now + chore.every  # a failing chore waits its turn too
            chore.run()
        return [chore.name for chore in done]


def runs_to_close(candidates: dict[Key, Stream | None], states: dict[Stream, str], suspects: dict[Key, float],
                  *, now: float, patience: float) -> tuple[list[Key], dict[Key, float]]:
    """The reaper's decision, given the open runs, their leases' states and
    when each run was first seen unheld: which to close now, and the
    suspects to remember for the next look."""
    unheld = {key for key, stream in candidates.items() if stream is None or states[stream] != leases.HELD}
    remembered = {key: suspects.get(key, now) for key in unheld}
    closing = sorted(key for key, first_seen in remembered.items() if now - first_seen >= patience)
    return closing, {key: seen for key, seen in remembered.items() if key not in closing}


class Reaper:
    def __init__(self) -> None:
        self.suspects: dict[Key, float] = {}

    def look(self) -> list[Key]:
        """One round; returns what it closed."""
        queued_before = timezone.now() - timedelta(seconds=settings.MUSE_QUEUE_GRACE)
        candidates = {(kind.name, pk): stream for kind in _kinds.values()
                      for pk, stream in kind.open_runs(queued_before).items()}
        streams = [stream for stream in candidates.values() if stream is not None]
        states = loop.run(leases.states(streams))  # raises when Redis is down: then we know nothing
        closing, self.suspects = runs_to_close(candidates, states, self.suspects,
                                               now=time.monotonic(), patience=leases.ttl() / 2)
        for key in closing:
            self._close(key, candidates[key])
        return closing

    def _close(self, key: Key, stream: Stream | None) -> None:
        kind, pk = key
        if stream is not None:
            loop.run(leases.release(stream, state=leases.REAPED))  # a late redelivery must not run it
        _kinds[kind].close(pk, stream)
