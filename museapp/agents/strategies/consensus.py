"""Consensus (minimum Bayes risk, no judge): among the drafts that give the
majority short answer (all of them, when none wins), the one most like the
others."""

from __future__ import annotations

from museapp.agents import merge
from museapp.agents.strategies.base import MergePlan, MergeResult, MergeStrategy, published
from museapp.streams.run import StreamStatus

NAME = "consensus"


async def run(plan: MergePlan) -> MergeResult:
    picked = merge.consensus(plan.drafts)
    if picked.answer is not None:
        note = (f"Consensus: {len(picked.agreeing)} of {len(plan.drafts)} drafts answered {picked.answer}; "
                f"this is the most typical of them.")
    else:
        note = "Consensus: no short answers to count, so this is the draft most like the others."
    return await published(plan, MergeResult(
        picked.chosen.text, StreamStatus.DONE, strategy_used=NAME,
        relied_on=[d.index for d in picked.agreeing], agreement=len(picked.agreeing) if picked.answer else None,
        tally=dict(picked.counts), note=note))


STRATEGY = MergeStrategy(
    name=NAME, label="Consensus", description="the draft most like the others wins, no judge",
    uses_judge=False, run=run, menu_position=40,
)
