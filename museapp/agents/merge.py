"""The merge's pure parts that strategies share: anonymising drafts, what
every judge's prompt holds, the vote, unanimity, the consensus medoid, and
what a judge's text must never be (naming the drafts, or a runaway). No I/O here; the strategies (museapp/agents/strategies/)
run them, and keep their own prompts and parsers."""

from __future__ import annotations

import math
import random
import re
import string
from collections import Counter
from dataclasses import dataclass

from museapp.agents.answers import folded, medoid, short_answer
from museapp.agents.roles import ROLES
from museapp.llm.runaway import degeneracy


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
    "Some drafts may share the same mistake: check the reasoning yourself rather than counting votes. "
    "The person reads only your answer: never mention the drafts, their letters, or how it was made."
)


def question_and_drafts(question: str, lettered: dict[str, Draft]) -> str:
    """What every judge's prompt begins with; its task follows."""
    letters = ", ".join(lettered)
    return f"Question:\n{question}\n\nDrafts ({letters}), in no particular order:\n\n{drafts_block(lettered)}\n\n"


def letters_in(text: str, lettered: dict[str, Draft]) -> list[str]:
    found = re.findall(r"\b([A-Z])\b", text or "")
    return [letter for letter in dict.fromkeys(found) if letter in lettered]


# --- what an answer must never show -----------------------------------------------

# The machinery named: "Draft B", "drafts A and C", "Relied on:", "the other
# agents", a role's name as a label ("Skeptic:", "the Explorer's draft").
# One definition, for the merge's fallback and the evaluation's count.
PROCESS_WORDS = re.compile(
    r"\b(?:(?i:drafts?)\s+\(?[A-H]\b|(?i:drafts)\b|(?i:the judge)\b|(?i:relied on)\b|(?i:our team)\b"
    r"|(?i:on a team)\b|(?i:the (?:other )?agents)\b"
    r"|(?i:direct solver|step-by-step reasoner|skeptic|devil's advocate|domain expert)\b"
    r"|(?i:as the (?:explorer|verifier|simplifier))\b)")
ROLE_LABELS = re.compile(r"\b(?:" + "|".join(re.escape(role.name) for role in ROLES) + r")(?:\s*:|['’]s\b)")
# "Answer B", "Response C": a draft by another name, unless the question lists lettered options.
LETTER_LABELS = re.compile(r"\b(?i:answers?|responses?|candidates?|options?|versions?)\s+\(?[A-H]\b(?![\w'’])")
LETTERED_OPTIONS = re.compile(r"(?:^|\s)\(?[A-D][).:]\s", re.MULTILINE)
# A heading that is only a draft's letter (or a list of letters): "### A", "## Draft B:", "### A, C, D, E, F".
LETTER_HEADINGS = re.compile(r"^[ \t]*#{1,6}[ \t]*(?:(?i:drafts?|answers?|responses?)[ \t]*)?(?:\(?[A-H]\)?"
                             r"|[A-Z](?:[ \t]*(?:,|&|and)[ \t]*[A-Z])+)[ \t]*[:.,]?[ \t]*$", re.MULTILINE)
# Lines labelled by letters ("A: ...", "**B)** ..."), two letters or more: the drafts, one by one.
LETTER_LINES = re.compile(r"^[ \t]*[*_]{0,2}\(?([A-H])[).:][*_]{0,2}[ \t]", re.MULTILINE)


def names_the_process(text: str, question: str = "") -> bool:
    """The text shows how it was made (drafts, their letters, roles, the
    judge). Words the question itself uses ("drafts" in a question about
    writing) do not count."""
    text = text or ""
    patterns = [PROCESS_WORDS, ROLE_LABELS, LETTER_HEADINGS]
    if not LETTERED_OPTIONS.search(question or ""):
        patterns.append(LETTER_LABELS)
        if len(set(LETTER_LINES.findall(text))) > 1:
            return True
    asked = folded(question)
    return any(not (asked and folded(match.group(0)) in asked)
               for pattern in patterns for match in pattern.finditer(text))


NAMED = "named the drafts"


def judge_fault(text: str, question: str) -> str:
    """What makes a judge's text unfit to be the answer, said to follow
    "The judge's text ..." ("" when it is fit)."""
    if not (text or "").strip():
        return "was empty"
    if names_the_process(text, question):
        return NAMED
    runaway = degeneracy(text)
    return f"ran away ({runaway})" if runaway else ""


def best_draft(drafts: list[Draft], question: str, ranked: list[int]) -> tuple[Draft, str]:
    """The draft to show when the judge's text cannot be: among the sound
    drafts (none naming the process or running away), those the judge
    ranked (relied on), if any; of them, the confidence vote's pick, or the
    consensus's where the model gave no confidences. With how it was chosen."""
    sound = [d for d in drafts if not judge_fault(d.text, question)] or list(drafts)
    pool = [d for d in sound if d.index in ranked] or sound
    among = "the drafts the judge relied on" if len(pool) < len(sound) else "the drafts"
    if len(pool) == 1:
        return pool[0], "the only one of " + among
    voted = confident_vote(pool)
    if voted is not None:
        return voted.chosen, "the confidence vote's pick among " + among
    return consensus(pool).chosen, "the most typical of " + among
