"""Grading answers (museapp/evals/grading.py): a final-answer line is read as
the vote reads it; answers without one are read as a person would skim them."""

import pytest

from museapp.evals.grading import degeneracy, grade, names_the_process
from museapp.evals.problems import Problem
from museapp.evals.report import condition_rows, table

SUM = Problem("arithmetic", 0, "What is 17 + 25?", ("42",), "number")
CAPITAL = Problem("facts", 0, "What is the capital of France?", ("Paris",), "text")
COLOUR = Problem("choice", 0, "Which is a primary color?\nA) Green\nB) Red\nC) Purple\nD) Orange", ("B",), "choice",
                 {"A": "Green", "B": "Red", "C": "Purple", "D": "Orange"})


@pytest.mark.parametrize("text", [
    "17 + 25 = 42.",
    "Adding them gives 42",
    "First 17 + 20 = 37, then 37 + 5 = 42.\nFinal answer: **42**.",
    "Final answer: 42.0",
    "The total is 1,042 minus 1,000, so 42.",
])
def test_a_number_is_read_from_the_final_line_or_else_the_last_number(text):
    assert grade(SUM, text).correct


@pytest.mark.parametrize("text", ["17 + 25 = 43.", "Forty-two", "", "Final answer: 43\nBut maybe 42"])
def test_a_wrong_or_missing_number_is_wrong(text):
    assert not grade(SUM, text).correct


def test_the_final_line_wins_over_numbers_written_after_it_for_a_number():
    assert grade(SUM, "Final answer: 42\n(I checked 17 + 25 = 43 twice.)").extracted == "42"


@pytest.mark.parametrize("text", [
    "The capital of France is Paris.",
    "PARIS",
    "Final answer: Paris",
    "It's París, on the Seine.",
])
def test_a_fact_is_right_when_an_accepted_form_opens_the_answer(text):
    assert grade(CAPITAL, text).correct


@pytest.mark.parametrize("text", [
    "La femme de France est la femme de france.",
    "Parisian food is great.\nFinal answer: Lyon",
    "It is Lyon." + " " * 400 + "Paris",  # past the opening a person reads
])
def test_a_fact_is_wrong_when_it_names_something_else(text):
    assert not grade(CAPITAL, text).correct


@pytest.mark.parametrize("text", [
    "B", "B) Red", "(B)", "The answer is B.", "Final answer: B", "Final answer: Red", "Red is a primary color.",
    "**B) Red**",
])
def test_a_choice_is_read_as_a_letter_or_as_the_option_it_names(text):
    assert grade(COLOUR, text).extracted == "B"


@pytest.mark.parametrize("text", [
    "A dolphin would know.",  # the article "A" is no answer
    "Green or red, hard to say.",
    "",
])
def test_a_choice_that_picks_nothing_or_several_is_wrong(text):
    result = grade(COLOUR, text)
    assert not result.correct and result.extracted != "B"


@pytest.mark.parametrize(("text", "names"), [
    ("Draft D", True),
    ("Relied on: A, C\n\nParis.", True),
    ("As the Skeptic, I checked the trap.", True),
    ("The other agents are wrong: it is 42.", True),
    ("Paris is the capital of France.", False),
    ("A chemical agent reacts with water.", False),
])
def test_an_answer_that_names_the_machinery_is_noticed(text, names):
    assert names_the_process(text) is names


def test_naming_an_option_is_no_naming_of_the_process_when_the_question_lists_options():
    assert not names_the_process("Answer B is right: red.", COLOUR.prompt)
    assert names_the_process("Answer B is right: Paris.", CAPITAL.prompt)


@pytest.mark.parametrize(("problem", "text", "why"), [
    (CAPITAL, "Paris. " + ", ".join(str(n) for n in range(2126297, 2126397)), "a run with no words"),
    (CAPITAL, "Paris is lovely. " + "Paris is lovely in spring, " * 3, "a loop"),
    (CAPITAL, "Bananas grow on large herbs.", "off the question"),  # no word of the question, not the answer
    (SUM, "The sky is blue.", "off the question"),
    (SUM, "The answer is 32.", ""),  # a wrong sum, not another question
    (Problem("facts", 1, "How many months are in a year?", ("12", "twelve"), "text"),
     "A month is about 30 days.", ""),  # wrong, but about months
    (COLOUR, "Probably C.\nFinal answer: C", ""),
    (CAPITAL, "Paris.", ""),  # the answer, with no word of the question
    (SUM, "42", ""),
    (CAPITAL, "The capital of France is Lyon.", ""),  # wrong, but on the question
    (CAPITAL, "", ""),  # a failure, not a degenerate answer
])
def test_an_answer_is_degenerate_when_it_runs_away_or_is_off_the_question(problem, text, why):
    assert degeneracy(problem, text) == why


def item(condition, index, answer, problem=CAPITAL, correct=False):
    return {"condition": condition, "problem_set": problem.set, "problem_index": index, "correct": correct,
            "answer": answer, "answer_status": "done", "prompt_tokens": 10, "completion_tokens": 10, "cost": None,
            "wall_ms": 1000, "drafts": None, "drafts_right": None, "drafts_agree": None, "early_stop": "",
            "message__confidence": None, "problem": problem.as_dict()}


def test_the_report_counts_answers_named_or_degenerate_as_one_figure_with_its_parts():
    items = [item("synthesize:4", 0, "Draft A says Paris."), item("synthesize:4", 1, "Bananas grow on herbs."),
             item("synthesize:4", 2, "Paris. " + ", ".join(str(n) for n in range(1000, 1100))),
             item("synthesize:4", 3, "Paris.", correct=True)]

    row = condition_rows(items, ["synthesize:4"])[0]

    assert (row["names_the_process"], row["runaway"], row["off_question"]) == (0.25, 0.25, 0.25)
    assert (row["degenerate"], row["named_or_degenerate"]) == (0.5, 0.75)
    assert "synthesize:4 75.0 (named 25.0, runaways 25.0, off the question 25.0)" in table(
        {"conditions": [row], "auto": []})


def test_a_stated_answer_outweighs_an_option_listed_first():
    assert grade(COLOUR, "A) Green\n\nThe correct answer is B) Red.").extracted == "B"
