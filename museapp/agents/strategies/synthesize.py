"""Synthesize: a judge reads the drafts, anonymised and shuffled, and writes
one answer from the best of them, streamed as it writes; its first line
(held back from the page) says which drafts it relied on. A finished text
that names the drafts or runs away is not shown as the answer:
the best draft is, and the coordination line says so (the page re-renders
the answer from the database when the merge ends, replacing what streamed)."""

from __future__ import annotations

import re
import time

from museapp.agents import merge
from museapp.agents.strategies import select
from museapp.agents.strategies.base import MergePlan, MergeResult, MergeStrategy, judge_call, unanimous
from museapp.streams.run import StreamStatus, run_stream

NAME = "synthesize"


def synthesize_prompt(question: str, lettered: dict[str, merge.Draft]) -> str:
    return (
        merge.question_and_drafts(question, lettered)
        + "Write the single best final answer to the question.\n"
        "- Your FIRST line must be exactly `Relied on: <letters>`: the drafts whose substance your answer "
        "keeps (those that agree with it), e.g. `Relied on: A, C`.\n"
        "- Then a blank line, then the answer itself, addressed to the person who asked.\n"
        "- Keep what is right, fix what is wrong, resolve disagreements explicitly, and be no longer than needed.\n"
        "- Write it as your own answer: never mention the drafts, their letters, agents or this process."
    )


def parse_relied_on(header: str, lettered: dict[str, merge.Draft]) -> list[str]:
    if not re.match(r"^\W*relied on\W*", header or "", re.IGNORECASE):
        return []
    return merge.letters_in(header.split(":", 1)[-1].upper(), lettered)


async def run(plan: MergePlan) -> MergeResult:
    shortcut = await unanimous(plan)
    if shortcut is not None:
        return shortcut
    if len(plan.drafts) == 1:  # nothing to write one answer from: the judge looks it over
        return await select.pick(plan)
    return await _written(plan)


async def _written(plan: MergePlan) -> MergeResult:
    lettered = merge.letter_drafts(plan.drafts, plan.seed)
    letters = {d.index: letter for letter, d in lettered.items()}
    call = judge_call(plan, synthesize_prompt(plan.question, lettered))
    started = time.time()
    judge = await run_stream(stream=plan.stream, conversation_id=plan.conversation_id, call=call,
                             hold_first_line=True, deadline=plan.deadline, publish=plan.publish)
    relied = [lettered[letter].index for letter in parse_relied_on(judge.header, lettered)]
    if judge.status == StreamStatus.ERROR and not judge.text:
        return await select.as_written(plan, f"The judge failed ({judge.error})", letters=letters, judge=judge)
    first_token_at = started + judge.stats.ttft_ms / 1000 if judge.stats.ttft_ms else None
    # Only a finished text: one cut off or failed part-way says so already, and a stopped one was the person's call.
    fault = merge.judge_fault(judge.text, plan.question) if judge.status == StreamStatus.DONE else ""
    if fault:
        return _best_draft_instead(plan, fault, relied, MergeResult(
            "", StreamStatus.DONE, strategy_used=NAME, letters=letters, judge=judge, first_token_at=first_token_at))
    return MergeResult(judge.text, judge.status, error=judge.error, strategy_used=NAME, relied_on=relied,
                       agreement=len(relied) if relied else None, letters=letters, judge=judge,
                       first_token_at=first_token_at,
                       note="" if relied else "The judge did not say which drafts it relied on.")


def _best_draft_instead(plan: MergePlan, fault: str, relied: list[int], result: MergeResult) -> MergeResult:
    """The best draft as the answer, since the judge's text cannot be; the
    page shows it when the merge ends (the judge's text streamed already)."""
    chosen, how = merge.best_draft(plan.drafts, plan.question, relied)
    result.text, result.relied_on, result.fallback = chosen.text, [chosen.index], fault
    result.note = (f"The judge's text {fault}, so this is the {chosen.role}'s draft as written, {how}; "
                   "the judge's text is below.")
    return result


STRATEGY = MergeStrategy(
    name=NAME, label="Synthesize", description="a judge writes one answer from the best of the drafts",
    uses_judge=True, run=run, menu_position=10, writes_new_answer=True,
)
