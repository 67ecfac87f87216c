"""Stream: an answer's or an agent's run of output, its name and DOM id; and
the conversation's channel-layer group."""

import re

import pytest
from channels.layers import BaseChannelLayer

from museapp.streams.names import Stream, conversation_group


def test_an_answer_is_named_and_found_on_the_page_as_msg_and_its_message_id():
    stream = Stream.answer(7)

    assert (stream.kind, stream.id) == ("msg", 7)
    assert stream.name == "msg-7"
    assert stream.dom_id == "msg-7"
    assert str(stream) == "msg-7"
    assert stream.is_agent is False


def test_an_agent_is_named_and_found_on_the_page_as_agent_and_its_run_id():
    stream = Stream.agent(3)

    assert (stream.kind, stream.id) == ("agent", 3)
    assert stream.name == "agent-3"
    assert stream.dom_id == "agent-3"
    assert stream.is_agent is True


def test_ids_given_as_strings_are_made_ints():
    assert Stream.answer("12") == Stream("msg", 12)
    assert Stream.agent("5").name == "agent-5"


@pytest.mark.parametrize("stream", [Stream.answer(7), Stream.agent(3), Stream.answer(0),
                                    Stream.agent(9_223_372_036_854_775_807)])
def test_parse_round_trips_a_name(stream):
    assert Stream.parse(stream.name) == stream


@pytest.mark.parametrize("name", ["msg-", "agent-x", "msg-7-judge", "other-1", "", "msg7", "MSG-7",
                                  " msg-7", "msg--7", "msg-+7", "agent-3.0"])
def test_parse_refuses_other_names(name):
    assert Stream.parse(name) is None


def test_parse_refuses_a_name_with_a_trailing_newline():
    assert Stream.parse("msg-7\n") is None


def test_streams_are_equal_by_value_and_hashable():
    assert Stream.answer(7) == Stream.answer(7)
    assert Stream.answer(7) != Stream.agent(7)
    assert Stream.answer(7) != Stream.answer(8)
    assert {Stream.answer(7): "a"}[Stream("msg", 7)] == "a"
    assert len({Stream.answer(7), Stream.answer(7), Stream.agent(7)}) == 2


@pytest.mark.parametrize("conversation_id", [1, 42, "42", 9_223_372_036_854_775_807])
def test_a_conversation_group_keeps_to_channels_group_name_rules(conversation_id):
    group = conversation_group(conversation_id)

    assert group == f"conversation.{int(conversation_id)}"
    assert re.fullmatch(r"[A-Za-z0-9_.\-]+", group)
    assert len(group) < 100
    assert BaseChannelLayer().require_valid_group_name(group) is True
