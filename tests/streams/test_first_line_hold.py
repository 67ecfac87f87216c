"""FirstLineHold keeps a judge's verdict line (``Relied on: A, C``) back from
the page and lets the answer through."""

import pytest

from museapp.streams.run import HEADER_MAX_CHARS, FirstLineHold


def feed_all(hold: FirstLineHold, deltas: list[str]) -> str:
    return "".join(hold.feed(delta) for delta in deltas)


def test_a_verdict_line_ending_in_a_newline_becomes_the_header_and_the_rest_is_shown():
    hold = FirstLineHold()

    shown = hold.feed("Relied on: A, C\nThe answer is 42.")

    assert hold.header == "Relied on: A, C"
    assert shown == "The answer is 42."


def test_nothing_is_shown_while_the_first_line_is_still_coming():
    hold = FirstLineHold()

    assert hold.feed("Relied on: A") == ""
    assert hold.header == ""


def test_blank_lines_right_after_the_header_are_dropped():
    hold = FirstLineHold()

    shown = hold.feed("Relied on: B\n\n\nFirst paragraph.\n\nSecond.")

    assert hold.header == "Relied on: B"
    assert shown == "First paragraph.\n\nSecond."


def test_blank_lines_after_the_header_are_dropped_when_they_come_in_a_later_delta():
    hold = FirstLineHold()

    shown = feed_all(hold, ["Relied on: B\n", "\n\n", "First paragraph."])

    assert hold.header == "Relied on: B"
    assert shown == "First paragraph."


def test_a_header_split_across_many_deltas_is_put_together():
    hold = FirstLineHold()
    deltas = ["Rel", "ied", " on", ":", " A", ",", " C", "\nThe", " answer"]

    shown = [hold.feed(delta) for delta in deltas]

    assert shown[:7] == [""] * 7
    assert hold.header == "Relied on: A, C"
    assert "".join(shown) == "The answer"


def test_deltas_after_the_header_and_the_answers_first_text_pass_through_unchanged():
    hold = FirstLineHold()
    hold.feed("Relied on: A\n")
    hold.feed("The answer:")

    assert hold.feed("\n\nIndented\n") == "\n\nIndented\n"
    assert hold.feed("  more  ") == "  more  "
    assert hold.feed("Relied on: B\n") == "Relied on: B\n"
    assert hold.header == "Relied on: A"


def test_a_first_line_longer_than_max_chars_is_all_answer():
    hold = FirstLineHold(max_chars=10)

    shown = feed_all(hold, ["This is ", "a long ", "first line", " with no verdict\nsecond line"])

    assert shown == "This is a long first line with no verdict\nsecond line"
    assert hold.header == ""
    assert hold.leftover() == ""


def test_the_default_limit_lets_a_long_first_line_through_once_it_passes_the_limit():
    hold = FirstLineHold()
    line = "word " * (HEADER_MAX_CHARS // 5)

    assert hold.feed(line) == ""  # exactly the limit: may still be a verdict
    assert hold.feed("more") == line + "more"
    assert hold.header == ""


def test_a_first_line_longer_than_max_chars_is_all_answer_even_when_its_newline_arrives_with_it():
    hold = FirstLineHold(max_chars=10)

    shown = feed_all(hold, ["This is a ", "long first line\nsecond line"])

    assert hold.header == ""
    assert shown == "This is a long first line\nsecond line"


def test_a_stream_that_ends_with_no_newline_leaves_the_held_text_as_leftover():
    hold = FirstLineHold()

    shown = feed_all(hold, ["Just ", "a short ", "answer."])

    assert shown == ""
    assert hold.header == ""
    assert hold.leftover() == "Just a short answer."


def test_nothing_is_left_over_once_the_header_was_found():
    hold = FirstLineHold()
    feed_all(hold, ["Relied on: A\n", "answer"])

    assert hold.leftover() == ""
