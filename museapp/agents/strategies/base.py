"""What a merge strategy is, what it is given and what it gives back, and
the steps strategies share: the shortcut for unanimous drafts, showing a
picked draft at once, and the judge's call. No database here: a strategy
runs on the worker's event loop; museapp/agents/merging.py reads its plan
before and saves its result after."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from museapp.agents import merge
from museapp.llm.adapter import ModelCall
from museapp.llm.config import model_call
from museapp.streams.names import Stream
from museapp.streams.publisher import publish_text
from museapp.streams.run import StreamResult, StreamStatus

JUDGE_TEMPERATURE = 0.2
# What a merge records as used when every draft gave the same short answer:
# a shortcut any strategy may take, never one a person picks.
UNANIMOUS = "unanimous"


@dataclass
class MergePlan:
    """What the merge needs, read from the database before it streams."""

    contemplation_id: int
    message_id: int
    conversation_id: int
    owner_id: int
    strategy: str
    question: str
    drafts: list[merge.Draft]
    failures: list[str]
    model: str
    started: float  # time.time() of the contemplation's start
    seed: int
    deadline: float  # time.time() by which the merge must have ended
    publish: bool = True  # False while the answer is blind: it is shown beside the quick answer, at once
    instructions: str = ""  # the person's custom instructions, when the answer was started with them
    files: list[dict] = field(default_factory=list)  # the question's attached files, as the agents read them
    again: bool = False  # "Merge again": a new version from drafts already written; its figures are the merge's own

    @property
    def stream(self) -> Stream:
        return Stream.answer(self.message_id)


@dataclass
class MergeResult:
    text: str
    status: StreamStatus
    error: str = ""
    strategy_used: str = ""
    relied_on: list[int] = field(default_factory=list)
    agreement: int | None = None
    tally: dict = field(default_factory=dict)
    note: str = ""
    letters: dict[int, str] = field(default_factory=dict)
    judge: StreamResult | None = None
    first_token_at: float | None = None  # time.time()
    fallback: str = ""  # why the judge's text is not the answer ("named the drafts"); "" when it is, or no judge wrote one


@dataclass(frozen=True)
class MergeStrategy:
    """One way to turn the drafts into the answer: a module of this package
    defines one as ``STRATEGY``, and the registry (``__init__``) finds it."""

    name: str  # stored on the contemplation and the conversation; MUSE_MERGE_STRATEGY names it
    label: str  # the menu's and the insights' word for it
    description: str  # what it does, said in the menu (touch screens show no tooltips)
    uses_judge: bool  # it asks a model to judge the drafts (the judge menu picks which)
    run: Callable[[MergePlan], Awaitable[MergeResult]]  # the merge itself; it may call another strategy's
    menu_position: int  # where the menu lists it, lowest first
    writes_new_answer: bool = False  # the judge writes the answer, rather than one draft being it as written
    weighs_confidence: bool = False  # drafts count by their confidence: an early stop weighs them so too


async def unanimous(plan: MergePlan) -> MergeResult | None:
    """Every draft gives the same short answer: the best-formed of them (the
    most typical), with no judge call to pay for; None when they differ."""
    agreed = merge.unanimous_answer(plan.drafts)
    if agreed is None:
        return None
    picked = merge.consensus(plan.drafts)
    return await published(plan, MergeResult(
        picked.chosen.text, StreamStatus.DONE, strategy_used=UNANIMOUS, relied_on=[d.index for d in plan.drafts],
        agreement=len(plan.drafts), tally=dict(picked.counts),
        note=f"All {len(plan.drafts)} drafts gave the same answer ({agreed}), so no judge was needed."))


async def published(plan: MergePlan, result: MergeResult) -> MergeResult:
    """Show the answer's whole text at once (a vote's or a selected draft)."""
    if plan.publish:
        await publish_text(stream=plan.stream, conversation_id=plan.conversation_id, text=result.text)
    result.first_token_at = time.time()
    return result


def judge_call(plan: MergePlan, prompt: str) -> ModelCall:
    system = merge.JUDGE_SYSTEM
    if plan.instructions:
        system += f"\n\nThe final answer goes to a person who gave these standing instructions.\n\n{plan.instructions}"
    # The judge reads the question's files as the agents did, before the
    # drafts: the adapter cuts the files, never the drafts, to fit.
    return model_call(model=plan.model, temperature=JUDGE_TEMPERATURE, messages=[
        {"role": "system", "content": system},
        {"role": "user", "content": [*plan.files, {"type": "text", "text": prompt}] if plan.files else prompt},
    ])
