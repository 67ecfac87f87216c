"""A page's place in each stream it shows: subscribe first, then render the
current state (database + live snapshots), then drop frames that state
already covers. Nothing lost, nothing doubled, on connect and whenever an
answer or panel is re-rendered."""

from __future__ import annotations

import sys

from museapp.agents.models import AgentRun
from museapp.chat.models import Message
from museapp.streams import livetext
from museapp.streams.names import Stream


# A stream the page shows finished has every frame: its text is final. A
# re-render, loaded after the event that asked for it, may show a stream
# finished whose last frames are still on their way; they have no place
# on the page any more (its element is re-rendered without one). Only a
# re-render as running again (a retry, "Merge again") takes frames anew.
ENDED = sys.maxsize


class CatchUp:
    def __init__(self) -> None:
        self.seen_seq: dict[Stream, int] = {}  # the last frame this page has, per stream

    def place(self, stream: Stream, seq: int) -> str:
        """Where frame ``seq`` stands for this page: "old" (the page has it),
        "next", or after a "gap" (frames dropped on the way: the page needs
        the stream's text anew). The page has it from now on."""
        seen = self.seen_seq.get(stream, 0)
        if seq <= seen:
            return "old"
        self.seen_seq[stream] = seq
        return "next" if seq == seen + 1 else "gap"

    async def message(self, message: Message) -> Message:
        """The message as it stands now: a streaming answer, and each agent
        still drafting, with the text streamed so far."""
        if message.is_running:
            message.content = await self._live_text(message.stream)
        else:
            self.seen_seq[message.stream] = ENDED
        contemplation = message.contemplation_or_none
        for run in contemplation.agent_runs if contemplation else []:
            await self.agent(run)
        return message

    async def agent(self, run: AgentRun) -> AgentRun:
        if run.is_running:
            run.text = await self._live_text(run.stream)
        else:
            self.seen_seq[run.stream] = ENDED
        return run

    def shown_finished(self, message: Message) -> None:
        """``message`` was rendered from the database without catching up
        (the sender's own turn, a branch with nothing live): what it shows
        finished, itself or an agent (a fast one may be done by then),
        takes no more frames. Its contemplation must be loaded."""
        contemplation = message.contemplation_or_none
        for record in [message, *(contemplation.agent_runs if contemplation else [])]:
            if not record.is_running:
                self.seen_seq[record.stream] = ENDED

    async def _live_text(self, stream: Stream) -> str:
        text, self.seen_seq[stream] = await livetext.snapshot(stream)
        return text
