"""The merge's pure parts that strategies share: anonymising drafts, what
every judge's prompt holds, the vote, unanimity and the consensus medoid.
No I/O here; the strategies (museapp/agents/strategies/) run them, and keep
their own prompts and parsers."""

from __future__ import annotations

import math
import random
import re
import string
from collections import Counter
from dataclasses import dataclass

from museapp.agents.answers import medoid, short_answer


@dataclass(frozen=True)
class Draft:
    index: int  # the agent's index
    role: str
    text: str
    confidence: float | None = None  # the mean log-probability of its last tokens, where the model gave them


# --- vote -----------------------------------------------------------------


def tally(answers: dict[int, str | None]) -> Counter:
    return Counter(a for a in answers.values() if a is not None)


def locked_majority(answers: dict[int, str | None], still_running: int,
                    weights: dict[int, float] | None = None) -> str | None:
    """The answer whose lead the agents still running can no longer
    overturn. With ``weights`` (each draft's, at most 1: the confidence
    merge's), the lead is weighed, and each agent still running could add
    at most 1 to another answer."""
    totals: Counter = Counter()
    for index, answer in answers.items():
        if answer is not None:
            totals[answer] += weights[index] if weights is not None else 1
    counts = totals.most_common()
    if not counts:
        return None
    leader, lead = counts[0]
    runner_up = counts[1][1] if len(counts) > 1 else 0
    return leader if lead > runner_up + still_running else None


def vote_winner(answers: dict[int, str | None]) -> str | None:
    """The most common short answer; None on a tie or when none is extractable."""
    counts = tally(answers).most_common(2)
    if not counts or (len(counts) > 1 and counts[0][1] == counts[1][1]):
        return None
    return counts[0][0]


def short_answers(drafts: list[Draft]) -> dict[int, str | None]:
    return {d.index: short_answer(d.text) for d in drafts}


def unanimous_answer(drafts: list[Draft]) -> str | None:
    """The short answer every draft gives, when there are two or more drafts
    and all give the same one: nothing left for a judge to decide."""
    answers = set(short_answers(drafts).values())
    return answers.pop() if len(drafts) > 1 and len(answers) == 1 and None not in answers else None


@dataclass(frozen=True)
class Consensus:
    chosen: Draft
    agreeing: list[Draft]  # the drafts that give the chosen draft's short answer (or just it)
    answer: str | None  # the majority's short answer; None when there was none to count
    counts: Counter


def consensus(drafts: list[Draft]) -> Consensus:
    """Minimum Bayes risk with no judge: among the drafts that give the
    majority short answer (all drafts, when there is no majority), the one
    most like the others. No position bias: the order does not matter
    except to break exact ties."""
    answers = short_answers(drafts)
    winner = vote_winner(answers)
    pool = [d for d in drafts if answers[d.index] == winner] if winner is not None else list(drafts)
    chosen = pool[medoid([d.text for d in pool])]
    agreeing = pool if winner is not None else [chosen]
    return Consensus(chosen, agreeing, winner, tally(answers))


def confident_vote(drafts: list[Draft]) -> Consensus | None:
    """Each draft's short answer counted with its confidence as weight
    (exp of its tail's mean log-probability: 1 for a certain draft, near 0
    for a guess), so two unsure drafts can lose to one sure one. The chosen
    draft is the most confident of the winning answer's; with no short
    answers, the most confident draft. None when a draft has no confidence
    (a model that gives no log-probabilities)."""
    if not drafts or any(d.confidence is None for d in drafts):
        return None
    answers = short_answers(drafts)
    weights: dict[str, float] = {}
    for draft in drafts:
        if answers[draft.index] is not None:
            weights[answers[draft.index]] = weights.get(answers[draft.index], 0.0) + math.exp(draft.confidence)
    if not weights:
        chosen = max(drafts, key=lambda d: d.confidence)
        return Consensus(chosen, [chosen], None, tally(answers))
    winner = max(weights, key=weights.get)
    pool = [d for d in drafts if answers[d.index] == winner]
    return Consensus(max(pool, key=lambda d: d.confidence), pool, winner, tally(answers))


# --- the judge ----------------------------------------------------------------


def letter_drafts(drafts: list[Draft], seed: int) -> dict[str, Draft]:
    """Shuffle and anonymise: the judge sees Draft A, B, ... and never which
    agent (role, temperature, model) wrote which."""
    shuffled = list(drafts)
    random.Random(seed).shuffle(shuffled)
    return dict(zip(string.ascii_uppercase, shuffled, strict=False))


def drafts_block(lettered: dict[str, Draft]) -> str:
    return "\n\n".join(f"### Draft {letter}\n{draft.text.strip()}" for letter, draft in lettered.items())


JUDGE_SYSTEM = (
    "You are the judge of a team of assistants. Several drafts answer the same question. "
    "Some drafts may share the same mistake: check the reasoning yourself rather than counting votes."
)


def question_and_drafts(question: str, lettered: dict[str, Draft]) -> str:
    """What every judge's prompt begins with; its task follows."""
    letters = ", ".join(lettered)
    return f"Question:\n{question}\n\nDrafts ({letters}), in no particular order:\n\n{drafts_block(lettered)}\n\n"


def letters_in(text: str, lettered: dict[str, Draft]) -> list[str]:
    found = re.findall(r"\b([A-Z])\b", text or "")
    return [letter for letter in dict.fromkeys(found) if letter in lettered]
