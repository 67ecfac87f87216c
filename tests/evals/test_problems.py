"""The problem sets (museapp/evals/problems.py) are the same for the same
seed, differ between seeds, and carry their right answers."""

import json
import re

import pytest

from museapp.evals.grading import grade
from museapp.evals.problems import DATA, SETS, Problem, problem_set


@pytest.mark.parametrize("name", list(SETS))
def test_a_set_is_the_same_for_the_same_seed(name):
    assert problem_set(name, n=20, seed=7) == problem_set(name, n=20, seed=7)


@pytest.mark.parametrize("name", list(SETS))
def test_another_seed_gives_other_problems_or_another_order(name):
    assert problem_set(name, n=20, seed=1) != problem_set(name, n=20, seed=2)


@pytest.mark.parametrize("name", ["facts", "choice", "recall"])
def test_a_shipped_set_gives_at_most_what_it_has_each_question_once(name):
    shipped = json.loads((DATA / f"{name}.json").read_text())
    prompts = [p.prompt.splitlines()[0] for p in problem_set(name, n=10_000, seed=1)]
    assert sorted(prompts) == sorted(item["q"] for item in shipped)
    assert len(problem_set(name, n=5, seed=1)) == 5


def test_arithmetic_answers_are_the_arithmetic():
    for problem in problem_set("arithmetic", n=200, seed=3):
        numbers = [int(x) for x in re.findall(r"\d+", problem.prompt)]
        answer = int(problem.accepted[0])
        a, b = numbers[0], numbers[1]
        assert answer in {a + b, a - b, a * b, a // b}, problem.prompt


def test_a_choice_problem_lists_its_options_and_its_right_letter_grades_right():
    for problem in problem_set("choice", n=40, seed=5):
        assert [line[0] for line in problem.prompt.splitlines()[1:5]] == list("ABCD")
        letter = problem.accepted[0]
        assert grade(problem, f"{letter}) {problem.options[letter]}").correct


def test_the_right_option_moves_between_seeds():
    letters = {problem_set("choice", n=40, seed=seed)[0].accepted[0] for seed in range(12)}
    assert len(letters) > 1


def test_a_problem_survives_its_trip_through_the_database_as_json():
    problem = problem_set("choice", n=1, seed=1)[0]
    assert Problem.from_dict(problem.as_dict()) == problem
