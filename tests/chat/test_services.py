"""The chat services: conversations and messages, without sockets or workers."""

from decimal import Decimal

import pytest

from museapp.chat import services
from museapp.chat.models import Conversation, Message
from museapp.chat.context import model_context
from museapp.chat.services import InvalidMessage
from museapp.llm.adapter import StreamStats
from museapp.streams.run import StreamResult, StreamStatus

pytestmark = pytest.mark.django_db


def add(conversation, author, content="", status=Message.Status.DONE, **fields) -> Message:
    return Message.objects.create(
        conversation=conversation, author=author, content=content, status=status, **fields
    )


def messages_of(conversation) -> list[tuple[str, str, str]]:
    return list(conversation.messages.order_by("id").values_list("author", "content", "status"))


# --- message_clean_text -----------------------------------------------------


@pytest.mark.parametrize("text", ["", "   \n\t  "])
def test_an_empty_message_is_refused(text):
    with pytest.raises(InvalidMessage) as refused:
        services.message_clean_text(text)
    assert "empty message cannot be sent" in refused.value.reason


def test_a_too_long_message_is_refused_with_the_limit_in_the_reason():
    with pytest.raises(InvalidMessage) as refused:
        services.message_clean_text("x" * 20_001)
    assert "20,001 characters" in refused.value.reason
    assert "the limit is 20,000" in refused.value.reason


def test_whitespace_around_a_message_does_not_count_against_the_limit():
    text = "x" * 19_990 + " " * 20
    assert services.message_clean_text(text) == "x" * 19_990


def test_a_message_at_the_limit_is_accepted():
    assert services.message_clean_text("x" * 20_000) == "x" * 20_000


@pytest.mark.parametrize("value", [None, 42, ["a", "list"], {"text": "hi"}])
def test_a_message_that_is_not_text_is_refused(value):
    with pytest.raises(InvalidMessage) as refused:
        services.message_clean_text(value)
    assert refused.value.reason == "The message must be text."


def test_a_message_with_a_null_character_is_refused():
    with pytest.raises(InvalidMessage) as refused:
        services.message_clean_text("before\x00after")
    assert "null character" in refused.value.reason


def test_a_message_is_trimmed_but_keeps_its_inner_lines():
    assert services.message_clean_text("  first\n\nsecond  \n") == "first\n\nsecond"


# --- model_context ----------------------------------------------------------


def test_the_context_is_the_system_prompt_and_the_finished_turns(conversation, settings):
    settings.MUSE_SYSTEM_PROMPT = "Be brief."
    add(conversation, "user", "My name is Ada.")
    add(conversation, "assistant", "Hello Ada.")
    add(conversation, "user", "Break, please.")
    add(conversation, "assistant", "half an ans", status="error", error="lost")
    add(conversation, "user", "Stop at once.")
    add(conversation, "assistant", "", status="stopped")
    add(conversation, "user", "Tell me a story.")
    add(conversation, "assistant", "Once upon", status="stopped")
    add(conversation, "user", "What is my name?")
    add(conversation, "assistant", "You are", status="streaming")

    assert model_context(conversation_id=conversation.pk) == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "My name is Ada."},
        {"role": "assistant", "content": "Hello Ada."},
        {"role": "user", "content": "Break, please."},
        {"role": "user", "content": "Stop at once."},
        {"role": "user", "content": "Tell me a story."},
        {"role": "assistant", "content": "Once upon"},
        {"role": "user", "content": "What is my name?"},
    ]


# --- answer_finish ----------------------------------------------------------


def test_a_finished_answer_is_saved_with_its_usage_cost_and_timings(conversation):
    answer = add(conversation, "assistant", status="streaming", model="openai/fake-model")
    stats = StreamStats(started=100.0, first_token_at=100.0125, ended_at=100.08, prompt_tokens=12,
                        completion_tokens=2, cost=0.000123456789)
    result = StreamResult(text="Paris.", status=StreamStatus.DONE, stats=stats)

    assert services.answer_finish(message_id=answer.pk, result=result) is True

    answer.refresh_from_db()
    assert answer.content == "Paris."
    assert answer.status == "done"
    assert answer.error == ""
    assert (answer.prompt_tokens, answer.completion_tokens) == (12, 2)
    assert answer.cost == Decimal("0.00012346")
    assert (round(answer.ttft_ms, 6), round(answer.total_ms, 6)) == (12.5, 80.0)
    assert answer.finished_at is not None


def test_a_failed_answer_keeps_its_partial_text_and_reason(conversation):
    answer = add(conversation, "assistant", status="streaming")
    result = StreamResult(text="one two", status=StreamStatus.ERROR, error="The connection was lost.")

    services.answer_finish(message_id=answer.pk, result=result)

    answer.refresh_from_db()
    assert (answer.content, answer.status, answer.error) == ("one two", "error", "The connection was lost.")
    assert answer.cost is None


def test_a_late_finish_does_not_overwrite_an_answer_that_already_ended(conversation):
    answer = add(conversation, "assistant", "kept as stopped", status="stopped")

    updated = services.answer_finish(
        message_id=answer.pk, result=StreamResult(text="late duplicate", status=StreamStatus.DONE)
    )

    assert updated is False
    answer.refresh_from_db()
    assert (answer.content, answer.status) == ("kept as stopped", "stopped")


# --- conversations ----------------------------------------------------------


def test_a_new_chat_reuses_an_untouched_empty_one(user, conversation):
    used = Conversation.objects.create(user=user)
    add(used, "user", "hello")

    assert services.conversation_open_new(user=user) == conversation
    assert services.conversation_open_new(user=user) == conversation
    assert Conversation.objects.filter(user=user).count() == 2


def test_a_new_chat_is_created_when_every_chat_has_messages(user, conversation):
    add(conversation, "user", "hello")

    fresh = services.conversation_open_new(user=user)

    assert fresh != conversation
    assert Conversation.objects.filter(user=user).count() == 2


def test_a_new_chat_never_reuses_someone_elses_empty_one(user, other_user):
    theirs = Conversation.objects.create(user=other_user)

    mine = services.conversation_open_new(user=user)

    assert mine != theirs
    assert mine.user == user


def test_renaming_collapses_whitespace(conversation):
    services.conversation_rename(conversation=conversation, title="  Trip \n to\t  Rome  ")

    conversation.refresh_from_db()
    assert conversation.title == "Trip to Rome"


def test_an_empty_title_is_refused_and_the_old_one_kept(conversation):
    conversation.title = "Keep me"
    conversation.save()

    with pytest.raises(InvalidMessage) as refused:
        services.conversation_rename(conversation=conversation, title=" \n ")

    assert refused.value.reason == "A title cannot be empty."
    conversation.refresh_from_db()
    assert conversation.title == "Keep me"


def test_deleting_a_conversation_deletes_its_messages(conversation):
    add(conversation, "user", "hello")
    add(conversation, "assistant", "hi")

    services.conversation_delete(conversation=conversation)

    assert not Conversation.objects.filter(pk=conversation.pk).exists()
    assert not Message.objects.filter(conversation_id=conversation.pk).exists()
