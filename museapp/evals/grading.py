"""Grading an answer against a problem's known answer.

An answer's `Final answer: ...` line is read exactly as the vote reads it
(museapp/agents/answers.py); an answer without one (quick answers have no
such instruction) is read the way a person would skim it: the last number,
the first lines, the letter it names."""

from __future__ import annotations

import re
from dataclasses import dataclass

from museapp.agents import merge
from museapp.agents.answers import (
    FINAL_ANSWER,
    as_number,
    contains_phrase,
    content_words,
    folded,
    last_number,
    short_answer,
)
from museapp.evals.problems import Problem
from museapp.llm import runaway as runaway_guard

HEAD_CHARS = 300  # an answer without a final-answer line is judged by its opening
# "B", "(B) Red", "B." as a final answer; "B) Red" or a lone "B" opening a
# line of the text (not "A dolphin is ..."); "the answer is B" in the opening.
FINAL_LETTER = re.compile(r"^\W*\(?([A-Z])(?:[).:]|\s|$)")
LINE_LETTER = re.compile(r"^[^\w(]*\(?([A-Z])(?:[).:]|[ \t]*$)", re.MULTILINE)
NAMED_LETTER = re.compile(r"\b(?i:answer|option|choice)\b\W*(?i:is\W*)?(?i:option\W*)?\(?([A-Z])(?!\w)")


def names_the_process(text: str, question: str = "") -> bool:
    """An answer should never show the machinery: "Draft B", "the judge", a
    role's name. The merge's own definition (museapp/agents/merge.py), which
    it falls back from."""
    return merge.names_the_process(text, question)


OFF_QUESTION = "off the question"


def degeneracy(problem: Problem, text: str) -> str:
    """Why an answer is degenerate ("" when it is not): a runaway (a loop, a
    count, a run with no words: museapp/llm/runaway.py, the guard's own
    test), or off the question: it shares no content word with the question
    (numbers count as words; the commonest words do not), contains none of
    the accepted answers, and gives no answer of the question's kind (a
    number to a sum, an option to a choice: "The answer is 32." to "What is
    22 + 31?" is wrong, not off the question). An empty answer is neither:
    it is a failure."""
    runaway = runaway_guard.degeneracy(text)
    if runaway:
        return runaway
    if not content_words(text) or content_words(text) & content_words(problem.prompt):
        return ""
    if any(contains_phrase(text, answer) for answer in problem.accepted) or grade(problem, text).correct:
        return ""
    if (problem.kind == "number" and last_number(text) is not None) or (
            problem.kind == "choice" and chosen_letter(problem, text)):
        return ""
    return OFF_QUESTION


@dataclass(frozen=True)
class Grade:
    extracted: str  # what was read as the answer, normalised ("" when nothing was)
    correct: bool


def final_line(text: str) -> str | None:
    found = FINAL_ANSWER.findall(text or "")
    return found[-1].strip() if found else None


def grade(problem: Problem, text: str) -> Grade:
    return {"number": _number, "text": _text, "choice": _choice}[problem.kind](problem, text or "")


def _number(problem: Problem, text: str) -> Grade:
    short = short_answer(text)
    read = short if short is not None and as_number(short) is not None else last_number(text)
    expected = {as_number(a) for a in problem.accepted}
    return Grade(read or "", read is not None and read in expected)


def _text(problem: Problem, text: str) -> Grade:
    answer = final_line(text)
    span = answer if answer is not None else text[:HEAD_CHARS]
    found = next((a for a in problem.accepted if contains_phrase(span, a)), None)
    if found is not None:
        return Grade(folded(found), True)
    first = next((line for line in span.splitlines() if line.strip()), "")
    return Grade(folded(first)[:80], False)


def _choice(problem: Problem, text: str) -> Grade:
    letter = chosen_letter(problem, text)
    return Grade(letter, letter in problem.accepted)


def chosen_letter(problem: Problem, text: str) -> str:
    """The option an answer picks: its final line's letter or option, else a
    letter it names ("the answer is B", then "B) Red"), else the one option
    it mentions in its opening; "" when it picks none or several."""
    answer = final_line(text)
    spans = [(answer, FINAL_LETTER)] if answer is not None else []
    for span, letter_pattern in [*spans, (text[:HEAD_CHARS], LINE_LETTER)]:
        # "The correct answer is D" outweighs a listing that opens with "A) ...".
        for pattern in (NAMED_LETTER, letter_pattern):
            match = pattern.search(span)
            if match and match.group(1).upper() in problem.options:
                return match.group(1).upper()
        mentioned = [letter for letter, option in problem.options.items() if contains_phrase(span, option)]
        if len(mentioned) == 1:
            return mentioned[0]
    return ""
