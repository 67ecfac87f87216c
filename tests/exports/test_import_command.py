"""`manage.py import_conversation FILE --user NAME` reads an Export as JSON
back into a new conversation of that person's."""

import json

import pytest
from django.core.management import CommandError, call_command

from museapp.chat.models import Conversation
from museapp.exports.conversations import conversation_export
from tests.exports.conversations import rich_conversation

pytestmark = pytest.mark.django_db


def test_it_imports_the_file_for_the_person_named(user, other_user, tmp_path, capsys):
    exported = tmp_path / "picnic.json"
    exported.write_text(json.dumps(conversation_export(conversation=rich_conversation(user))), encoding="utf-8")

    call_command("import_conversation", str(exported), "--user", "mallory")

    copy = Conversation.objects.get(user=other_user)
    assert (copy.title, copy.messages.count()) == ("Picnic plans", 7)
    assert f"Imported “Picnic plans” as conversation {copy.pk}, 7 messages." in capsys.readouterr().out


def test_a_file_that_is_no_export_is_refused(other_user, tmp_path):
    exported = tmp_path / "other.json"
    exported.write_text('{"format": "something else"}', encoding="utf-8")

    with pytest.raises(CommandError, match="not a conversation exported from Muse"):
        call_command("import_conversation", str(exported), "--user", "mallory")

    assert not Conversation.objects.exists()
