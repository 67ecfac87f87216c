"""The reaper's decision (runs_to_close): which open runs nobody holds any
more, and which to remember for the next look."""

from museapp.streams import leases
from museapp.streams.names import Stream
from museapp.streams.reaper import runs_to_close

ANSWER = ("answer", 7)
AGENT = ("agent", 3)
STREAM = Stream.answer(7)
AGENT_STREAM = Stream.agent(3)


def test_a_run_whose_lease_is_held_is_never_closed_and_is_forgotten_as_a_suspect():
    closing, suspects = runs_to_close({ANSWER: STREAM}, {STREAM: leases.HELD}, {ANSWER: 0.0},
                                      now=1000.0, patience=5.0)

    assert closing == []
    assert suspects == {}


def test_a_run_seen_unheld_for_the_first_time_is_remembered_not_closed():
    closing, suspects = runs_to_close({ANSWER: STREAM}, {STREAM: leases.MISSING}, {}, now=100.0, patience=5.0)

    assert closing == []
    assert suspects == {ANSWER: 100.0}


def test_a_run_is_closed_once_unheld_for_patience_across_two_looks():
    candidates, states = {ANSWER: STREAM}, {STREAM: leases.MISSING}
    closing, suspects = runs_to_close(candidates, states, {}, now=100.0, patience=5.0)

    closing_early, suspects = runs_to_close(candidates, states, suspects, now=104.9, patience=5.0)
    assert closing_early == []
    assert suspects == {ANSWER: 100.0}  # first seen, not last seen

    closing, suspects = runs_to_close(candidates, states, suspects, now=105.0, patience=5.0)
    assert closing == [ANSWER]
    assert suspects == {}


def test_a_run_that_comes_back_before_patience_is_forgiven():
    candidates = {ANSWER: STREAM}
    _, suspects = runs_to_close(candidates, {STREAM: leases.MISSING}, {}, now=100.0, patience=5.0)

    closing, suspects = runs_to_close(candidates, {STREAM: leases.HELD}, suspects, now=103.0, patience=5.0)
    assert closing == [] and suspects == {}

    # Lost again later: its patience starts over.
    closing, suspects = runs_to_close(candidates, {STREAM: leases.MISSING}, suspects, now=106.0, patience=5.0)
    assert closing == []
    assert suspects == {ANSWER: 106.0}


def test_a_run_no_lease_covers_counts_as_unheld():
    closing, suspects = runs_to_close({("contemplation", 4): None}, {}, {("contemplation", 4): 90.0},
                                      now=100.0, patience=5.0)

    assert closing == [("contemplation", 4)]
    assert suspects == {}


def test_ended_and_reaped_tombstones_count_as_unheld():
    candidates = {ANSWER: STREAM, AGENT: AGENT_STREAM}
    states = {STREAM: leases.ENDED, AGENT_STREAM: leases.REAPED}

    closing, suspects = runs_to_close(candidates, states, {}, now=50.0, patience=5.0)
    assert closing == []
    assert suspects == {ANSWER: 50.0, AGENT: 50.0}

    closing, _ = runs_to_close(candidates, states, suspects, now=55.0, patience=5.0)
    assert closing == [AGENT, ANSWER]


def test_the_suspects_returned_never_contain_a_closed_run():
    candidates = {ANSWER: STREAM, AGENT: AGENT_STREAM}
    states = {STREAM: leases.MISSING, AGENT_STREAM: leases.MISSING}

    closing, suspects = runs_to_close(candidates, states, {ANSWER: 0.0}, now=10.0, patience=5.0)

    assert closing == [ANSWER]
    assert suspects == {AGENT: 10.0}
    assert not set(closing) & set(suspects)


def test_a_suspect_that_is_no_longer_open_is_forgotten():
    closing, suspects = runs_to_close({}, {}, {ANSWER: 0.0}, now=100.0, patience=5.0)

    assert closing == [] and suspects == {}


def test_the_close_list_is_sorted():
    keys = [("msg", 9), ("agent", 12), ("msg", 2), ("agent", 1), ("contemplation", 5)]
    candidates = {key: None for key in keys}

    closing, _ = runs_to_close(candidates, {}, {key: 0.0 for key in keys}, now=10.0, patience=1.0)

    assert closing == [("agent", 1), ("agent", 12), ("contemplation", 5), ("msg", 2), ("msg", 9)]
