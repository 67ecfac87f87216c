"""A page's place in each stream it shows: subscribe first, then render the
current state (database + live snapshots), then drop frames that state
already covers. Nothing lost, nothing doubled, on connect and whenever an
answer or panel is re-rendered."""

from __future__ import annotations

from museapp.agents.models import AgentRun
from museapp.chat.models import Message
from museapp.streams import livetext
from museapp.streams.names import Stream


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
            self.seen_seq.pop(message.stream, None)
        contemplation = message.contemplation_or_none
        for run in contemplation.agent_runs if contemplation else []:
            await self.agent(run)
        return message

    async def agent(self, run: AgentRun) -> AgentRun:
        if run.is_running:
            run.text = await self._live_text(run.stream)
        else:
            self.seen_seq.pop(run.stream, None)
        return run

    async def _live_text(self, stream: Stream) -> str:
        text, self.seen_seq[stream] = await livetext.snapshot(stream)
        return text
