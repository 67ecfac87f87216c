"""The reaper: every worker process looks, every few seconds, for runs that
the database says are going on but that no live worker holds (their lease
lapsed: museapp/chat/leases.py), and closes them.

- a quick answer: ended as interrupted, with what was streamed and a Retry
  button (services.answer_interrupted);
- an agent's draft: failed, keeping its partial draft; the contemplation
  settles, so the merge goes ahead without it;
- a merge: the answer ends as interrupted;
- a contemplation whose agents all ended but whose merge was never claimed
  (the last agent's worker died in between): settled now.

This also covers a full restart: the new workers find what the old ones left.
A run is closed only after its lease has been missing for half a lease
lifetime on two looks, so a Redis restart (which loses every lease until the
owners renew them) closes nothing. Several workers may reap at once: every
change is a conditional update, so each run is closed once.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta

from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone

from museapp.chat import events, leases
from museapp.ops import loop

log = logging.getLogger(__name__)

_thread: threading.Thread | None = None


def start() -> None:
    """Start this process's reaper thread (idempotent)."""
    global _thread
    if _thread is None or not _thread.is_alive():
        _thread = threading.Thread(target=_run, name="muse-reaper", daemon=True)
        _thread.start()


def _run() -> None:
    reaper = Reaper()
    while True:
        try:
            reaper.look()
        except Exception:  # noqa: BLE001 - the reaper must outlive a bad round (DB or Redis down)
            log.warning("reaper round failed", exc_info=True)
        finally:
            close_old_connections()
        time.sleep(leases.ttl() / 4)


class Reaper:
    def __init__(self) -> None:
        # candidate -> when it was first seen unheld
        self.suspects: dict[tuple[str, int], float] = {}

    def look(self) -> list[tuple[str, int]]:
        """One round; returns what it closed."""
        from museapp.agents.models import AgentRun, Contemplation
        from museapp.chat.models import Message

        queued_before = timezone.now() - timedelta(seconds=settings.MUSE_QUEUE_GRACE)
        candidates: dict[tuple[str, int], str] = {}  # (kind, id) -> stream whose lease counts
        answers = Message.objects.filter(
            status=Message.Status.STREAMING, author=Message.Author.ASSISTANT, created_at__lt=queued_before,
            contemplation__isnull=True,
        )
        for message_id in answers.values_list("pk", flat=True):
            candidates[("answer", message_id)] = events.message_stream(message_id)
        agents = AgentRun.objects.filter(
            status=AgentRun.Status.THINKING, kind=AgentRun.Kind.AGENT, started_at__lt=queued_before
        )
        for run_id in agents.values_list("pk", flat=True):
            candidates[("agent", run_id)] = events.agent_stream(run_id)
        merging = Contemplation.objects.filter(status=Contemplation.Status.MERGING,
                                               message__status=Message.Status.STREAMING)
        for contemplation_id, message_id in merging.values_list("pk", "message_id"):
            candidates[("merge", contemplation_id)] = events.message_stream(message_id)
        unsettled = Contemplation.objects.filter(status=Contemplation.Status.THINKING,
                                                 started_at__lt=queued_before).exclude(
            runs__status=AgentRun.Status.THINKING)
        for contemplation_id in unsettled.values_list("pk", flat=True):
            candidates[("settle", contemplation_id)] = ""

        streams = [stream for stream in candidates.values() if stream]
        states = loop.run(leases.states(streams))  # raises when Redis is down: then we know nothing
        now = time.monotonic()
        unheld = {key for key, stream in candidates.items() if not stream or states[stream] != leases.HELD}
        for key in list(self.suspects):
            if key not in unheld:
                del self.suspects[key]
        closed = []
        for key in sorted(unheld):
            first_seen = self.suspects.setdefault(key, now)
            if now - first_seen >= leases.ttl() / 2:
                self._close(key, candidates[key])
                self.suspects.pop(key, None)
                closed.append(key)
        return closed

    def _close(self, key: tuple[str, int], stream: str) -> None:
        from museapp.agents import services as agent_services
        from museapp.agents.tasks import settle
        from museapp.chat import livetext, services, streaming

        kind, pk = key
        if stream:
            loop.run(leases.release(stream, state=leases.REAPED))  # a late redelivery must not run it
        if kind == "answer":
            text, _ = loop.run(livetext.snapshot(stream))
            message = services.reply_interrupted(message_id=pk, text=text)
            if message is not None:
                log.warning("answer %s lost its worker; closed as interrupted", pk)
                loop.run(streaming.announce_changed(conversation_id=message.conversation_id, message_id=pk))
        elif kind == "agent":
            text, _ = loop.run(livetext.snapshot(stream))
            run = agent_services.agent_interrupted(run_id=pk, text=text)
            if run is not None:
                log.warning("agent run %s lost its worker; failed, the merge goes on without it", pk)
                conversation_id = run.contemplation.message.conversation_id
                loop.run(streaming.announce(conversation_id, events.agent_changed(pk), finished_streams=(stream,)))
                settle(contemplation_id=run.contemplation_id)
        elif kind == "merge":
            message = agent_services.merge_interrupted(contemplation_id=pk)
            if message is not None:
                log.warning("the merge of contemplation %s lost its worker; closed as interrupted", pk)
                loop.run(streaming.announce_changed(conversation_id=message.conversation_id, message_id=message.pk))
        elif kind == "settle":
            log.warning("contemplation %s ended without a merge; settling it", pk)
            settle(contemplation_id=pk)
