"""The index keeps up: the SQLite index's triggers come back after a
migration of chat's rebuilt the messages' table (SQLite drops a table's
triggers with it), and a message of megabytes is saved and found."""

import pytest
from django.db import connection

from museapp.chat.models import Conversation, Message
from museapp.search import index
from museapp.search.services import conversations_search

pytestmark = pytest.mark.django_db


@pytest.mark.skipif(connection.vendor != "sqlite", reason="PostgreSQL's generated column needs no triggers")
def test_lost_triggers_are_put_back_and_what_changed_meanwhile_is_indexed(user):
    conversation = Conversation.objects.create(user=user)
    with connection.cursor() as cursor:
        for name in index._TRIGGERS:
            cursor.execute(f"DROP TRIGGER {name}")
    Message.objects.create(conversation=conversation, author="user", content="saved while the triggers were gone")

    assert index.ensure(connection) is True
    assert index.ensure(connection) is False, "whole again"

    Message.objects.create(conversation=conversation, author="user", content="saved after")
    assert [r.conversation_id for r in conversations_search(user=user, text="triggers")] == [conversation.pk]
    assert [r.conversation_id for r in conversations_search(user=user, text="after")] == [conversation.pk]


def test_a_message_of_megabytes_is_saved_and_found_by_its_beginning(user):
    # Unique words, so its index would be as big as its text: more than a
    # PostgreSQL tsvector holds.
    text = "lighthouse " + " ".join(f"w{i}" + "abcdefghij" * 10 for i in range(20_000))
    conversation = Conversation.objects.create(user=user, title="Long")
    Message.objects.create(conversation=conversation, author="assistant", content=text)

    assert len(Message.objects.get(conversation=conversation).content) > 2_000_000
    assert [r.conversation_id for r in conversations_search(user=user, text="lighthouse")] == [conversation.pk]
