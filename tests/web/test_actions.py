"""parse_action: what a page may send over the chat socket, and why a frame
is refused."""

import json

import pytest

from museapp.web.actions import MAX_FRAME_CHARS, Refusal, Retry, Send, Stop, parse_action


def frame(**payload) -> str:
    return json.dumps(payload)


# --- refusals -----------------------------------------------------------------


def test_a_binary_frame_is_refused():
    assert parse_action(None) == Refusal("That message could not be read (Muse reads text frames only).")


def test_a_frame_over_the_servers_byte_limit_is_refused_unread_with_the_message_limits_words(settings):
    text = frame(message="x" * settings.MUSE_WS_MAX_BYTES, client_id="p7")

    assert parse_action(text) == Refusal(
        "That message is more than 20,000 characters long; the limit is 20,000. "
        "Shorten it or split it up, or attach it as a text file.", client_id="p7")


def test_a_message_past_the_frame_limit_but_under_the_byte_limit_is_read_for_the_turn_to_refuse():
    action = parse_action(frame(message="x" * 200_000, client_id="p8"))

    assert isinstance(action, Send)
    assert len(action.text) == 200_000 and action.client_id == "p8"


def test_a_message_of_the_largest_size_is_not_refused_as_too_large():
    action = parse_action(frame(message="x" * MAX_FRAME_CHARS))

    assert isinstance(action, Send)
    assert len(action.text) == MAX_FRAME_CHARS


@pytest.mark.parametrize("text", ["", "{", "not json", '{"message": "hi",}', "{'message': 'hi'}"])
def test_malformed_json_is_refused(text):
    assert parse_action(text) == Refusal("That message could not be read (malformed JSON).")


def test_json_nested_too_deeply_is_refused():
    assert parse_action("[" * 100_000) == Refusal("That message could not be read (nested too deeply).")


@pytest.mark.parametrize("text", ["[]", '["send"]', '"send"', "42", "null", "true"])
def test_json_that_is_not_an_object_is_refused(text):
    assert parse_action(text) == Refusal("That message could not be read (expected a JSON object).")


@pytest.mark.parametrize("action", ["delete", "SEND", "", None, 1, ["send"]])
def test_an_unknown_action_is_refused(action):
    assert parse_action(frame(action=action, message="hi")) == Refusal("Unknown action.")


# --- send ---------------------------------------------------------------------


def test_a_frame_with_no_action_is_a_send_with_its_defaults():
    assert parse_action(frame(message="Hello")) == Send(text="Hello", contemplate=False, strategy="",
                                                        client_id="")


def test_a_send_carries_its_fields():
    action = parse_action(frame(action="send", message="Why?", contemplate="on", strategy="vote",
                                client_id="pending_1-a"))

    assert action == Send(text="Why?", contemplate=True, strategy="vote", client_id="pending_1-a")


def test_the_text_is_passed_on_as_sent_for_the_turn_to_check():
    assert parse_action(frame(message=["not", "text"])).text == ["not", "text"]
    assert parse_action(frame()).text is None


@pytest.mark.parametrize("value", ["on", "true", True])
def test_contemplate_is_on_for_on_true_and_true(value):
    assert parse_action(frame(message="hi", contemplate=value)).contemplate is True


@pytest.mark.parametrize("value", ["off", "false", False, "True", "yes", "1", "", None, [], {}])
def test_contemplate_is_off_for_anything_else(value):
    assert parse_action(frame(message="hi", contemplate=value)).contemplate is False


@pytest.mark.parametrize("strategy", [1, None, ["vote"], {"name": "vote"}, True])
def test_a_strategy_that_is_not_a_string_becomes_empty(strategy):
    assert parse_action(frame(message="hi", strategy=strategy)).strategy == ""


@pytest.mark.parametrize("client_id", ["a", "pending-42", "A_b-9", "x" * 64])
def test_a_client_id_matching_the_pattern_is_kept(client_id):
    assert parse_action(frame(message="hi", client_id=client_id)).client_id == client_id


@pytest.mark.parametrize("client_id", ["", "x" * 65, "has space", "a.b", '"><script>', "ünïcode", 42, None])
def test_a_client_id_not_matching_the_pattern_is_dropped(client_id):
    assert parse_action(frame(message="hi", client_id=client_id)).client_id == ""


def test_a_client_id_with_a_trailing_newline_is_dropped():
    assert parse_action(frame(message="hi", client_id="abc\n")).client_id == ""


# --- stop and retry -----------------------------------------------------------


@pytest.mark.parametrize("message_id", [7, "7", None, "someone-else's", [1]])
def test_stop_carries_the_message_id_as_given(message_id):
    assert parse_action(frame(action="stop", message_id=message_id)) == Stop(message_id)


@pytest.mark.parametrize("message_id", [7, "7", None, {"id": 7}])
def test_retry_carries_the_message_id_as_given(message_id):
    assert parse_action(frame(action="retry", message_id=message_id)) == Retry(message_id)


def test_stop_without_a_message_id_carries_none():
    assert parse_action(frame(action="stop")) == Stop(None)


def test_a_judge_is_kept_when_a_string_and_left_alone_otherwise():
    assert parse_action(frame(message="hi", judge="openai/fake-model-2")).judge == "openai/fake-model-2"
    assert parse_action(frame(message="hi", judge="")).judge == ""
    assert parse_action(frame(message="hi")).judge is None
    assert parse_action(frame(message="hi", judge=["x"])).judge is None
