"""What the model reads of a conversation, as the worker builds it."""

import pytest

from museapp.chat.context import model_context
from museapp.chat.models import Message
from museapp.llm.config import system_prompt

pytestmark = pytest.mark.django_db


def say(conversation, author, content, **fields) -> Message:
    return Message.objects.create(conversation=conversation, author=author, content=content, **fields)


def test_only_the_turns_before_the_answer_are_read(conversation):
    say(conversation, "user", "first")
    say(conversation, "assistant", "one")
    say(conversation, "user", "second")
    answer = say(conversation, "assistant", "", status="streaming")
    say(conversation, "user", "a later turn")

    context = model_context(conversation_id=conversation.pk, before_id=answer.pk)

    assert [m["content"] for m in context] == [system_prompt(), "first", "one", "second"]


def test_a_character_budget_keeps_the_newest_turns_and_the_system_prompt(conversation):
    for i in range(10):
        say(conversation, "user", f"q{i} " + "x" * 96)
        say(conversation, "assistant", f"a{i} " + "y" * 96)

    context = model_context(conversation_id=conversation.pk, max_chars=450)

    assert context[0]["role"] == "system"
    assert [m["content"][:3] for m in context[1:]] == ["q8 ", "a8 ", "q9 ", "a9 "]  # 4 x 99 chars fit in 450
    assert [m["role"] for m in context[1:]] == ["user", "assistant", "user", "assistant"]


def test_the_latest_turn_is_kept_even_past_the_budget(conversation):
    say(conversation, "user", "z" * 10_000)

    context = model_context(conversation_id=conversation.pk, max_chars=10)

    assert [m["content"] for m in context[1:]] == ["z" * 10_000]
