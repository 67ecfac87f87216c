"""The turn services: starting and retrying turns, without sockets or workers."""

from decimal import Decimal

import pytest

from museapp.chat.context import model_context
from museapp.chat.services import TITLE_LENGTH, InvalidMessage
from museapp.turns import services as turns
from tests.chat.test_services import add, messages_of

pytestmark = pytest.mark.django_db


def context_of(turn) -> list[dict]:
    """What the worker will send the model for this turn's answer."""
    return model_context(conversation_id=turn.answer.conversation_id, before_id=turn.answer.pk)


# --- turn_start -------------------------------------------------------------


def test_it_saves_the_message_and_a_streaming_placeholder_for_the_model(conversation):
    turn = turns.turn_start(conversation=conversation, text="  Hello, Muse  ")

    assert messages_of(conversation) == [
        ("user", "Hello, Muse", "done"),
        ("assistant", "", "streaming"),
    ]
    assert turn.user_message.content == "Hello, Muse"
    assert turn.answer.model == "openai/fake-model"
    assert turn.run.call.model == "openai/fake-model"
    assert context_of(turn)[-1] == {"role": "user", "content": "Hello, Muse"}


def test_the_first_message_titles_the_conversation(conversation):
    turn = turns.turn_start(conversation=conversation, text="Plan a picnic\n for six")

    conversation.refresh_from_db()
    assert conversation.title == "Plan a picnic for six"
    assert turn.title_changed


def test_a_long_first_message_is_cut_at_a_word_with_an_ellipsis(conversation):
    text = "Please explain how photosynthesis works in desert plants that store water overnight"

    turns.turn_start(conversation=conversation, text=text)

    conversation.refresh_from_db()
    assert conversation.title == "Please explain how photosynthesis works in desert plants…"
    assert len(conversation.title) <= TITLE_LENGTH


def test_later_messages_keep_the_title(conversation):
    conversation.title = "My picnic"
    conversation.save()

    turn = turns.turn_start(conversation=conversation, text="Something else entirely")

    conversation.refresh_from_db()
    assert conversation.title == "My picnic"
    assert not turn.title_changed


def test_a_message_is_refused_while_another_answer_streams(conversation):
    turns.turn_start(conversation=conversation, text="first")

    with pytest.raises(InvalidMessage) as refused:
        turns.turn_start(conversation=conversation, text="second")

    assert "still answering" in refused.value.reason
    assert [content for _, content, _ in messages_of(conversation)] == ["first", ""]


def test_without_a_model_the_answer_fails_at_once_and_says_why(conversation, settings):
    settings.MUSE_MODELS = settings.MUSE_MODEL = ""
    settings.MUSE_OFFLINE_MODEL = False

    turn = turns.turn_start(conversation=conversation, text="hello?")

    assert turn.run is None
    assert turn.answer.status == "error"
    assert turn.answer.error.startswith("No language model is configured.")
    assert messages_of(conversation)[0] == ("user", "hello?", "done")


def test_an_invalid_message_saves_nothing(conversation):
    with pytest.raises(InvalidMessage):
        turns.turn_start(conversation=conversation, text="   ")

    assert messages_of(conversation) == []
    conversation.refresh_from_db()
    assert conversation.title == ""


def test_a_turn_sends_the_earlier_turns_but_not_its_own_placeholder(conversation):
    add(conversation, "user", "My name is Ada.")
    add(conversation, "assistant", "Hello Ada.")

    turn = turns.turn_start(conversation=conversation, text="What is my name?")

    assert [m["role"] for m in context_of(turn)] == ["system", "user", "assistant", "user"]
    assert context_of(turn)[-1]["content"] == "What is my name?"


# --- answer_retry ------------------------------------------------------------


@pytest.mark.parametrize("status", ["error", "stopped"])
def test_a_failed_or_stopped_answer_is_retried_in_place(conversation, status):
    add(conversation, "user", "break please")
    answer = add(
        conversation, "assistant", "half", status=status, error="boom", model="old/model",
        prompt_tokens=3, completion_tokens=1, cost=Decimal("0.1"), ttft_ms=5, total_ms=9,
    )

    turn = turns.answer_retry(message=answer)

    assert turn.answer.pk == answer.pk
    assert turn.user_message is None
    assert context_of(turn)[-1] == {"role": "user", "content": "break please"}
    answer.refresh_from_db()
    assert (answer.status, answer.content, answer.error) == ("streaming", "", "")
    assert answer.model == "openai/fake-model"
    assert answer.prompt_tokens is answer.completion_tokens is answer.cost is None
    assert answer.ttft_ms is answer.total_ms is answer.finished_at is None
    assert conversation.messages.count() == 2


def test_a_done_answer_cannot_be_retried(conversation):
    add(conversation, "user", "hi")
    answer = add(conversation, "assistant", "Hello!")

    with pytest.raises(InvalidMessage) as refused:
        turns.answer_retry(message=answer)

    assert "Only a failed or stopped answer" in refused.value.reason
    answer.refresh_from_db()
    assert (answer.content, answer.status) == ("Hello!", "done")


def test_a_user_message_cannot_be_retried(conversation):
    question = add(conversation, "user", "hi")

    with pytest.raises(InvalidMessage):
        turns.answer_retry(message=question)


def test_only_the_latest_answer_can_be_retried(conversation):
    add(conversation, "user", "break please")
    failed = add(conversation, "assistant", status="error", error="boom")
    add(conversation, "user", "next question")
    add(conversation, "assistant", "next answer")

    with pytest.raises(InvalidMessage) as refused:
        turns.answer_retry(message=failed)

    assert refused.value.reason == "Only the latest answer can be retried."
    failed.refresh_from_db()
    assert failed.status == "error"


def test_a_retry_is_refused_while_an_answer_streams(conversation):
    add(conversation, "user", "one")
    failed = add(conversation, "assistant", status="error", error="boom")
    add(conversation, "user", "two")
    add(conversation, "assistant", status="streaming")

    with pytest.raises(InvalidMessage) as refused:
        turns.answer_retry(message=failed)

    assert "still answering" in refused.value.reason
