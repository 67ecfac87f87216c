"""Vote: the final answer most drafts give wins, with no judge; when no
short answer wins (none found, or a tie), a judge selects instead."""

from __future__ import annotations

from museapp.agents import merge
from museapp.agents.strategies import select
from museapp.agents.strategies.base import MergePlan, MergeResult, MergeStrategy, published
from museapp.streams.run import StreamStatus

NAME = "vote"


async def run(plan: MergePlan) -> MergeResult:
    answers = merge.short_answers(plan.drafts)
    winner = merge.vote_winner(answers)
    if winner is None:
        return await select.pick(plan, prefix="No draft had a short answer to vote on; ")
    chosen = next(d for d in plan.drafts if answers[d.index] == winner)
    counts = merge.tally(answers)
    relied = [d.index for d in plan.drafts if answers[d.index] == winner]
    note = "Vote: " + ", ".join(f"{n}× {answer}" for answer, n in counts.most_common())
    return await published(plan, MergeResult(
        chosen.text, StreamStatus.DONE, strategy_used=NAME, relied_on=relied, agreement=counts[winner],
        tally=dict(counts), note=note))


STRATEGY = MergeStrategy(
    name=NAME, label="Vote", description="the final answer most drafts give wins, no judge",
    uses_judge=False, run=run, menu_position=20,
)
