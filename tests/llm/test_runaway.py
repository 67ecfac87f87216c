"""The runaway guard (museapp/llm/runaway.py) stops blank-line runs, loops,
counting and numbers with no words, and lets ordinary answers through; a
finished text is judged the same way."""

import re

import pytest

from museapp.llm.runaway import RunawayGuard, degeneracy


def tokens(text: str) -> list[str]:
    return re.findall(r"\s*\S+|\s+", text)


def stop_point(deltas: list[str]) -> int | None:
    """The index of the delta the guard stops at, or None."""
    guard = RunawayGuard()
    return next((i for i, delta in enumerate(deltas) if guard.stops_at(delta)), None)


def test_an_ordinary_answer_with_lists_tables_and_paragraphs_runs_to_its_end():
    answer = ("The capital of France is **Paris**.\n\nSome facts:\n\n- It is on the Seine.\n- It has 2.1 million "
              "people.\n\n| city | river |\n| --- | --- |\n| Paris | Seine |\n| Lyon | Rhône |\n\nThat's all!!!")
    assert stop_point(tokens(answer)) is None


def test_a_third_newline_in_a_row_stops_the_answer():
    deltas = ["Paris", " is", " the", " capital", ".\n", "\n", "\n", "\n"]
    assert stop_point(deltas) == 6


def test_blank_lines_split_over_tokens_with_spaces_still_count():
    assert stop_point(["Paris.", "\n ", " \n", "  ", "\n"]) == 4


def test_a_phrase_said_three_times_running_stops_the_answer():
    loop = tokens("La femme de France, ") * 5
    assert stop_point(loop) == 3 * len(tokens("La femme de France, ")) - 1


def test_a_short_repeat_is_not_a_loop():
    assert stop_point(["Ha", "ha", "ha", "ha", "!"]) is None


# --- text that grows without repeating ------------------------------------------


def counting(start: int, count: int) -> str:
    return ", ".join(str(n) for n in range(start, start + count))


def test_a_counting_run_stops_the_answer_within_sixteen_numbers():
    deltas = tokens("The capital of Italy is Rome. " + counting(2126297, 200))

    stopped = stop_point(deltas)

    assert stopped is not None and "".join(deltas[:stopped]).count(",") <= 16


def test_a_counting_run_spelled_one_digit_a_token_stops_too():
    deltas = list("Rome. " + counting(2126297, 200))  # as a tokenizer that splits digits sends it
    guard = RunawayGuard()

    stopped = next(i for i, delta in enumerate(deltas) if guard.stops_at(delta))

    assert guard.reason == "a run with no words" and "".join(deltas[:stopped]).count(",") <= 16


def test_steps_that_only_count_stop_the_answer():
    guard = RunawayGuard()
    deltas = tokens(" ".join(f"Step {n}: add one." for n in range(1, 60)))

    stopped = next(i for i, delta in enumerate(deltas) if guard.stops_at(delta))

    assert guard.reason == "a count" and "".join(deltas[:stopped]).count("Step") <= 24


def test_numbers_with_no_words_stop_after_a_line_or_so():
    digits = tokens("Pi is " + " ".join("3141592653589793238462643383279502884197"[i:i + 3] for i in range(0, 40, 3)) * 6)
    stopped = stop_point(digits)
    assert stopped is not None and len("".join(digits[:stopped])) < 200


def test_single_letters_that_only_grow_stop_the_answer():
    guard = RunawayGuard()
    deltas = tokens("The metal is mercury. " + ", ".join("DEFGHIJKLMNOPQRSTUVWXYZ" * 3))

    assert any(guard.stops_at(delta) for delta in deltas) and guard.reason == "a run with no words"


@pytest.mark.parametrize("answer", [
    "The years were " + counting(2010, 15) + ".",
    "Counting to twenty: " + counting(1, 20) + ".",
    "Fibonacci: [0, 1, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144, 233, 377, 610, 987]",
    "1. Paris\n2. Rome\n3. Berlin\n4. Madrid\n5. Lisbon\n6. Vienna\n7. Prague\n8. Warsaw",
    "| year | people |\n| --- | --- |\n| 2020 | 1,204 |\n| 2021 | 1,310 |\n| 2022 | 1,415 |\n| 2023 | 1,502 |",
])
def test_short_lists_of_numbers_tables_and_numbered_lists_run_to_their_end(answer):
    assert stop_point(tokens(answer)) is None
    assert degeneracy(answer) == ""


def test_the_guard_says_why_it_stopped():
    guard = RunawayGuard()
    list(filter(guard.stops_at, tokens("La femme de France, " * 4)))
    assert guard.reason == "a loop"


# --- a finished text ------------------------------------------------------------------


def test_a_finished_counting_run_is_degenerate():
    assert degeneracy("The capital of Italy is Rome. " + counting(2126297, 100)) == "a run with no words"
    assert degeneracy(" ".join(f"Step {n}: add one." for n in range(1, 30))) == "a count"


def test_a_text_the_guard_stopped_is_still_seen_as_degenerate():
    """The guard leaves out the token that completes a runaway: what is
    kept ends one repeat short of it."""
    for runaway in ["Rome. " + counting(2126297, 300), "Rome is nice. " + "La femme de France, " * 9,
                    "Sum: " + " ".join(f"Step {n}: add one." for n in range(1, 30))]:
        deltas = tokens(runaway)
        kept = "".join(deltas[:stop_point(deltas)])
        assert degeneracy(kept), kept


def test_an_ordinary_answer_is_not_degenerate():
    assert degeneracy("The capital of Italy is **Rome**, on the Tiber.\n\n\n\nIt has 2.8 million people.") == ""
