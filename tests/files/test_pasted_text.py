"""A paste too long for a message is sent as a text file (the page makes
it: static/js/attach.js): a model whose window holds it reads it whole, as
the worker builds and fits its request."""

import pytest
from django.core.files.base import ContentFile

from museapp.chat.context import call_in_context
from museapp.chat.models import Message
from museapp.files.models import Attachment
from museapp.llm.adapter import _lib
from museapp.llm.context import fit, wire

pytestmark = pytest.mark.django_db

PASTED = "".join(f"line {n}: all quiet on the night shift\n" for n in range(6_000))[:199_991] + "\nTHE END."
NAME = "Pasted text (200,000 characters).txt"


def question_with_paste(conversation) -> Message:
    question = Message.objects.create(conversation=conversation, author="user", content="Summarise the paste")
    attachment = Attachment(user=conversation.user, conversation=conversation, name=NAME, size=len(PASTED),
                            kind="text", media_type="text/plain", status="ready", text=PASTED)
    attachment.file.save(NAME, ContentFile(PASTED.encode()), save=False)
    attachment.save()
    attachment.messages.add(question)
    return question


def test_a_model_with_room_reads_a_200000_character_paste_whole(conversation, settings):
    settings.MUSE_CONTEXT_TOKENS = 128_000  # a remote model's window (gpt-4o's)
    question = question_with_paste(conversation)
    answer = Message.objects.create(conversation=conversation, author="assistant", content="", status="streaming",
                                    parent=question)

    call = call_in_context({"model": "openai/fake-model", "messages": [], "max_tokens": 2048},
                           conversation_id=conversation.pk, before_id=answer.pk)
    fitted, cuts = fit(call, _lib())

    assert len(PASTED) == 200_000
    assert cuts == []
    assert wire(fitted.messages)[-1]["content"] == f'<file name="{NAME}">\n{PASTED}\n</file>\n\nSummarise the paste'
