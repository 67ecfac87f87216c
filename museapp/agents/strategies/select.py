"""Select: a judge reads the drafts, anonymised and shuffled, and picks the
best one, which becomes the answer as written."""

from __future__ import annotations

import re
from dataclasses import dataclass

from museapp.agents import merge
from museapp.agents.strategies.base import MergePlan, MergeResult, MergeStrategy, judge_call, published, unanimous
from museapp.streams.run import StreamResult, StreamStatus, run_stream

NAME = "select"


def select_prompt(question: str, lettered: dict[str, merge.Draft]) -> str:
    return (
        merge.question_and_drafts(question, lettered)
        + "Pick the single best draft. Reply with exactly three lines:\n"
        "Best: <letter>\nAgree: <letters of the drafts that reach the same answer as the best, including it>\n"
        "Reason: <one line>"
    )


@dataclass
class Selection:
    letter: str
    agree: list[str]
    reason: str


def parse_selection(reply: str, lettered: dict[str, merge.Draft]) -> Selection | None:
    best = re.search(r"best\W*[:\-]\s*(?:draft\s*)?([A-Z])\b", reply or "", re.IGNORECASE)
    if not best or best.group(1).upper() not in lettered:
        return None
    letter = best.group(1).upper()
    agree_line = re.search(r"agree\W*[:\-]\s*(.*)", reply, re.IGNORECASE)
    agree = merge.letters_in(agree_line.group(1).upper(), lettered) if agree_line else []
    if letter not in agree:
        agree.insert(0, letter)
    reason = re.search(r"reason\W*[:\-]\s*(.*)", reply, re.IGNORECASE)
    return Selection(letter, agree, reason.group(1).strip()[:300] if reason else "")


async def run(plan: MergePlan) -> MergeResult:
    return await unanimous(plan) or await pick(plan)


async def pick(plan: MergePlan, prefix: str = "") -> MergeResult:
    """The judge's pick; ``prefix`` begins the note when another strategy
    fell back to this one (and says why)."""
    lettered = merge.letter_drafts(plan.drafts, plan.seed)
    letters = {d.index: letter for letter, d in lettered.items()}
    call = judge_call(plan, select_prompt(plan.question, lettered))
    # Not shown (the chosen draft is), but under the answer's name, so Stop reaches it.
    judge = await run_stream(stream=plan.stream, conversation_id=plan.conversation_id, call=call, publish=False,
                             deadline=plan.deadline)
    if judge.status == StreamStatus.STOPPED:
        return MergeResult("", StreamStatus.STOPPED, judge=judge, letters=letters)
    selection = parse_selection(judge.text, lettered)
    if selection is None:
        why = judge.error or "its reply named no draft"
        return await as_written(plan, f"{prefix}the judge could not choose ({why})", letters=letters, judge=judge)
    chosen = lettered[selection.letter]
    return await published(plan, MergeResult(
        chosen.text, StreamStatus.DONE, strategy_used=NAME,
        relied_on=[lettered[letter].index for letter in selection.agree],
        agreement=len(selection.agree), letters=letters, judge=judge,
        note=f"{prefix}the judge chose Draft {selection.letter} ({chosen.role}): {selection.reason}".strip()))


async def as_written(plan: MergePlan, why: str, *, letters: dict[int, str], judge: StreamResult) -> MergeResult:
    """When the judge gave no answer to use: the first draft as written."""
    chosen = plan.drafts[0]
    return await published(plan, MergeResult(
        chosen.text, StreamStatus.DONE, strategy_used=NAME, relied_on=[chosen.index], letters=letters, judge=judge,
        note=f"{why}, so this is the {chosen.role}'s draft as written."))


STRATEGY = MergeStrategy(
    name=NAME, label="Select", description="a judge picks the best draft as it is",
    uses_judge=True, run=run, menu_position=30,
)
