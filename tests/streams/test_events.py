"""The events workers send to the web process, and ``check``, which holds
an event against its schema."""

import pytest

from museapp.streams import events
from museapp.streams.names import Stream


def a_tokens_event(**changes) -> dict:
    return {**events.tokens(Stream.answer(7), "Hello", "", 1, 2, 12.5), **changes}


def test_a_tokens_event_names_its_stream_and_passes_check():
    event = events.tokens(Stream.agent(3), "Hello", "<p>Hello</p>", 4, 9, 12.5)

    assert event == {"type": "chat.tokens", "stream": "agent-3", "text": "Hello", "html": "<p>Hello</p>", "seq": 4,
                     "count": 9, "elapsed_ms": 12.5}
    events.check(event)


def test_a_message_changed_event_passes_check():
    event = events.message_changed(7)

    assert event == {"type": "chat.message_changed", "message_id": 7, "event_id": event["event_id"]}
    assert event["event_id"] != events.message_changed(7)["event_id"], "one id per sending"
    events.check(event)


def test_an_agent_changed_event_passes_check():
    event = events.agent_changed(3)

    assert event == {"type": "chat.agent_changed", "run_id": 3, "event_id": event["event_id"]}
    events.check(event)


@pytest.mark.parametrize("user_message_id", [5, None])
def test_a_turn_event_passes_check_with_or_without_a_user_message(user_message_id):
    event = events.turn(user_message_id, 6, "specific.abc!def")

    assert event == {"type": "chat.turn", "user_message_id": user_message_id, "assistant_message_id": 6,
                     "origin": "specific.abc!def"}
    events.check(event)


def test_every_event_type_has_a_schema():
    assert set(events.SCHEMA) == {events.TOKENS, events.MESSAGE_CHANGED, events.AGENT_CHANGED, events.TURN,
                                  events.SESSION_CHANGED, events.BRANCH_CHANGED}


def test_a_branch_changed_event_passes_check():
    event = events.branch_changed()

    assert event == {"type": "chat.branch_changed", "event_id": event["event_id"]}
    events.check(event)


@pytest.mark.parametrize("event", [{"type": "chat.unknown", "message_id": 7}, {"message_id": 7}, {}])
def test_check_refuses_an_unknown_type(event):
    with pytest.raises(ValueError, match="unknown event type"):
        events.check(event)


def test_check_refuses_a_missing_field():
    event = a_tokens_event()
    del event["seq"]

    with pytest.raises(ValueError, match="fields"):
        events.check(event)


def test_check_refuses_an_extra_field():
    with pytest.raises(ValueError, match="fields"):
        events.check({**events.message_changed(7), "html": "<p>hi</p>"})


@pytest.mark.parametrize("changes", [
    {"seq": "1"},
    {"seq": True},
    {"count": 2.0},
    {"text": b"Hello"},
    {"stream": None},
    {"elapsed_ms": "12.5"},
])
def test_check_refuses_a_wrongly_typed_tokens_field(changes):
    with pytest.raises(ValueError, match=f"chat.tokens.{next(iter(changes))}"):
        events.check(a_tokens_event(**changes))


@pytest.mark.parametrize("event", [
    {"type": "chat.message_changed", "message_id": False, "event_id": "e1"},
    {"type": "chat.agent_changed", "run_id": "3", "event_id": "e1"},
    {"type": "chat.turn", "user_message_id": "5", "assistant_message_id": 6, "origin": "x"},
    {"type": "chat.turn", "user_message_id": None, "assistant_message_id": None, "origin": "x"},
])
def test_check_refuses_a_wrongly_typed_field_of_other_events(event):
    with pytest.raises(ValueError, match="is not"):
        events.check(event)


def test_changed_for_an_agent_is_an_agent_changed_for_its_run():
    event = events.changed(Stream.agent(3))
    assert (event["type"], event["run_id"]) == ("chat.agent_changed", 3)


def test_changed_for_an_answer_is_a_message_changed_for_its_message():
    event = events.changed(Stream.answer(7))
    assert (event["type"], event["message_id"]) == ("chat.message_changed", 7)


def test_a_session_changed_event_passes_check_with_or_without_an_ended_session():
    events.check(events.session_changed())
    events.check(events.session_changed("abc123"))
    assert events.session_changed("abc123")["ended_session"] == "abc123"
