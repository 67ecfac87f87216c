"""The runaway guard (museapp/llm/runaway.py) stops blank-line runs and loops,
and lets ordinary answers through."""

import re

from museapp.llm.runaway import RunawayGuard


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
