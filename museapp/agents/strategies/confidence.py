"""Confidence (no judge): each draft's short answer weighted by how sure
the model was of it (its tokens' log-probabilities, DeepConf's tail
confidence), the most confident draft of the winning answer kept. Where a
model gives no log-probabilities, the consensus merges instead."""

from __future__ import annotations

from museapp.agents import merge
from museapp.agents.strategies import consensus
from museapp.agents.strategies.base import MergePlan, MergeResult, MergeStrategy, published
from museapp.streams.run import StreamStatus

NAME = "confidence"


async def run(plan: MergePlan) -> MergeResult:
    picked = merge.confident_vote(plan.drafts)
    if picked is None:
        return await consensus.run(plan)
    if picked.answer is not None:
        note = (f"Confidence: {len(picked.agreeing)} of {len(plan.drafts)} drafts answered {picked.answer}, "
                f"the answer the drafts were surest of together; this is the surest of them.")
    else:
        note = "Confidence: no short answers to weigh, so this is the draft the model was surest of."
    return await published(plan, MergeResult(
        picked.chosen.text, StreamStatus.DONE, strategy_used=NAME,
        relied_on=[d.index for d in picked.agreeing], agreement=len(picked.agreeing) if picked.answer else None,
        tally=dict(picked.counts), note=note))


STRATEGY = MergeStrategy(
    name=NAME, label="Confidence", description="the answer the drafts are surest of wins, no judge",
    uses_judge=False, run=run, menu_position=45, weighs_confidence=True,
)
