"""The chat services: conversations and turns, without sockets or workers."""

from decimal import Decimal

import pytest

from museapp.chat import services
from museapp.chat.models import Conversation, Message
from museapp.chat.services import InvalidMessage, ReplyOutcome

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


# --- turn_start -------------------------------------------------------------


def test_it_saves_the_message_and_a_streaming_placeholder_for_the_model(conversation):
    turn = services.turn_start(conversation=conversation, text="  Hello, Muse  ")

    assert messages_of(conversation) == [
        ("user", "Hello, Muse", "done"),
        ("assistant", "", "streaming"),
    ]
    assert turn.user_message.content == "Hello, Muse"
    assert turn.assistant_message.model == "openai/fake-model"
    assert turn.call.model == "openai/fake-model"
    assert turn.call.messages[-1] == {"role": "user", "content": "Hello, Muse"}


def test_the_first_message_titles_the_conversation(conversation):
    turn = services.turn_start(conversation=conversation, text="Plan a picnic\n for six")

    conversation.refresh_from_db()
    assert conversation.title == "Plan a picnic for six"
    assert turn.title_changed


def test_a_long_first_message_is_cut_at_a_word_with_an_ellipsis(conversation):
    text = "Please explain how photosynthesis works in desert plants that store water overnight"

    services.turn_start(conversation=conversation, text=text)

    conversation.refresh_from_db()
    assert conversation.title == "Please explain how photosynthesis works in desert plants…"
    assert len(conversation.title) <= services.TITLE_LENGTH


def test_later_messages_keep_the_title(conversation):
    conversation.title = "My picnic"
    conversation.save()

    turn = services.turn_start(conversation=conversation, text="Something else entirely")

    conversation.refresh_from_db()
    assert conversation.title == "My picnic"
    assert not turn.title_changed


def test_a_message_is_refused_while_another_answer_streams(conversation):
    services.turn_start(conversation=conversation, text="first")

    with pytest.raises(InvalidMessage) as refused:
        services.turn_start(conversation=conversation, text="second")

    assert "still answering" in refused.value.reason
    assert [content for _, content, _ in messages_of(conversation)] == ["first", ""]


def test_without_a_model_the_answer_fails_at_once_and_says_why(conversation, settings):
    settings.MUSE_MODELS = settings.MUSE_MODEL = ""
    settings.MUSE_OFFLINE_MODEL = False

    turn = services.turn_start(conversation=conversation, text="hello?")

    assert turn.call is None
    assert turn.assistant_message.status == "error"
    assert turn.assistant_message.error.startswith("No language model is configured.")
    assert messages_of(conversation)[0] == ("user", "hello?", "done")


def test_an_invalid_message_saves_nothing(conversation):
    with pytest.raises(InvalidMessage):
        services.turn_start(conversation=conversation, text="   ")

    assert messages_of(conversation) == []
    conversation.refresh_from_db()
    assert conversation.title == ""


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

    assert services.model_context(conversation=conversation) == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "My name is Ada."},
        {"role": "assistant", "content": "Hello Ada."},
        {"role": "user", "content": "Break, please."},
        {"role": "user", "content": "Stop at once."},
        {"role": "user", "content": "Tell me a story."},
        {"role": "assistant", "content": "Once upon"},
        {"role": "user", "content": "What is my name?"},
    ]


def test_a_turn_sends_the_earlier_turns_but_not_its_own_placeholder(conversation):
    add(conversation, "user", "My name is Ada.")
    add(conversation, "assistant", "Hello Ada.")

    turn = services.turn_start(conversation=conversation, text="What is my name?")

    assert [m["role"] for m in turn.call.messages] == ["system", "user", "assistant", "user"]
    assert turn.call.messages[-1]["content"] == "What is my name?"


# --- reply_finish -----------------------------------------------------------


def test_a_finished_answer_is_saved_with_its_usage_cost_and_timings(conversation):
    answer = add(conversation, "assistant", status="streaming", model="openai/fake-model")
    outcome = ReplyOutcome(
        text="Paris.", status="done", prompt_tokens=12, completion_tokens=2,
        cost=0.000123456789, ttft_ms=12.5, total_ms=80.0,
    )

    assert services.reply_finish(message_id=answer.pk, outcome=outcome) is True

    answer.refresh_from_db()
    assert answer.content == "Paris."
    assert answer.status == "done"
    assert answer.error == ""
    assert (answer.prompt_tokens, answer.completion_tokens) == (12, 2)
    assert answer.cost == Decimal("0.00012346")
    assert (answer.ttft_ms, answer.total_ms) == (12.5, 80.0)
    assert answer.finished_at is not None


def test_a_failed_answer_keeps_its_partial_text_and_reason(conversation):
    answer = add(conversation, "assistant", status="streaming")
    outcome = ReplyOutcome(text="one two", status="error", error="The connection was lost.")

    services.reply_finish(message_id=answer.pk, outcome=outcome)

    answer.refresh_from_db()
    assert (answer.content, answer.status, answer.error) == ("one two", "error", "The connection was lost.")
    assert answer.cost is None


def test_a_late_finish_does_not_overwrite_an_answer_that_already_ended(conversation):
    answer = add(conversation, "assistant", "kept as stopped", status="stopped")

    updated = services.reply_finish(
        message_id=answer.pk, outcome=ReplyOutcome(text="late duplicate", status="done")
    )

    assert updated is False
    answer.refresh_from_db()
    assert (answer.content, answer.status) == ("kept as stopped", "stopped")


# --- reply_retry ------------------------------------------------------------


@pytest.mark.parametrize("status", ["error", "stopped"])
def test_a_failed_or_stopped_answer_is_retried_in_place(conversation, status):
    add(conversation, "user", "break please")
    answer = add(
        conversation, "assistant", "half", status=status, error="boom", model="old/model",
        prompt_tokens=3, completion_tokens=1, cost=Decimal("0.1"), ttft_ms=5, total_ms=9,
    )

    turn = services.reply_retry(message=answer)

    assert turn.assistant_message.pk == answer.pk
    assert turn.user_message is None
    assert turn.call.messages[-1] == {"role": "user", "content": "break please"}
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
        services.reply_retry(message=answer)

    assert "Only a failed or stopped answer" in refused.value.reason
    answer.refresh_from_db()
    assert (answer.content, answer.status) == ("Hello!", "done")


def test_a_user_message_cannot_be_retried(conversation):
    question = add(conversation, "user", "hi")

    with pytest.raises(InvalidMessage):
        services.reply_retry(message=question)


def test_only_the_latest_answer_can_be_retried(conversation):
    add(conversation, "user", "break please")
    failed = add(conversation, "assistant", status="error", error="boom")
    add(conversation, "user", "next question")
    add(conversation, "assistant", "next answer")

    with pytest.raises(InvalidMessage) as refused:
        services.reply_retry(message=failed)

    assert refused.value.reason == "Only the latest answer can be retried."
    failed.refresh_from_db()
    assert failed.status == "error"


def test_a_retry_is_refused_while_an_answer_streams(conversation):
    add(conversation, "user", "one")
    failed = add(conversation, "assistant", status="error", error="boom")
    add(conversation, "user", "two")
    add(conversation, "assistant", status="streaming")

    with pytest.raises(InvalidMessage) as refused:
        services.reply_retry(message=failed)

    assert "still answering" in refused.value.reason


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
