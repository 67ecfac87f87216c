"""Download my data: everything of the person's in one JSON file (profile,
preferences, every conversation they keep with its tree and contemplations,
ratings, best-draft picks), nothing of anyone else's and no temporary chat,
built as it is sent in a fixed number of queries per batch of conversations."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from museapp.agents.models import AgentRun
from museapp.chat.models import Conversation, Message, Preferences
from museapp.exports.conversations import conversation_export
from museapp.exports.my_data import my_data_lines
from museapp.feedback.models import BestDraftPick, Rating
from tests.exports.conversations import answer, rich_conversation

pytestmark = pytest.mark.django_db


def my_data(user) -> dict:
    return json.loads("".join(my_data_lines(user=user)))


def shown_answer(conversation) -> Message:
    return conversation.messages.get(content="It is **42**.")


@pytest.fixture
def adas(user):
    """Ada's kept conversation, rated, with a draft picked, and her settings."""
    conversation = rich_conversation(user)
    Rating.objects.create(user=user, message=shown_answer(conversation), value=1, reasons=["clear"], comment="Neat")
    BestDraftPick.objects.create(user=user, message=shown_answer(conversation),
                                 run=AgentRun.objects.get(contemplation__message=shown_answer(conversation), index=1))
    Preferences.objects.create(user=user, about_me="I like maths.", compare_answers=False)
    return conversation


@pytest.fixture
def mallorys(other_user):
    conversation = rich_conversation(other_user, title="Mallory's secret plans")
    Rating.objects.create(user=other_user, message=shown_answer(conversation), value=-1, comment="mallory's comment")
    return conversation


@pytest.fixture
def temporary(user):
    conversation = Conversation.objects.create(user=user, title="A temporary chat", is_temporary=True)
    question = Message.objects.create(conversation=conversation, author="user", content="forget me")
    Rating.objects.create(user=user, message=answer(conversation, question, "forgotten"), value=1)
    return conversation


def test_it_holds_the_profile_and_preferences(user, adas):
    data = my_data(user)

    assert (data["format"], data["version"]) == ("muse.account", 1)
    assert data["profile"]["username"] == "ada"
    assert data["profile"]["date_joined"] == user.date_joined.isoformat()
    assert (data["preferences"]["about_me"], data["preferences"]["compare_answers"]) == ("I like maths.", False)


def test_preferences_never_saved_are_the_defaults(user):
    assert my_data(user)["preferences"]["compare_answers"] is True
    assert not Preferences.objects.exists(), "reading them saved nothing"


def test_each_conversation_is_as_its_own_export_holds_it(user, adas):
    [conversation] = my_data(user)["conversations"]

    assert conversation == json.loads(json.dumps(conversation_export(conversation=adas)))["conversation"]


def test_it_holds_the_ratings_and_draft_picks_tied_to_the_exported_ids(user, adas):
    data = my_data(user)

    answer_id = shown_answer(adas).pk
    [rating] = data["ratings"]
    assert (rating["message_id"], rating["value"], rating["reasons"], rating["comment"]) == (answer_id, 1, ["clear"], "Neat")
    [pick] = data["draft_picks"]
    runs = next(m for m in data["conversations"][0]["messages"] if m["id"] == answer_id)["contemplation"]["runs"]
    assert pick["message_id"] == answer_id and pick["run_id"] == runs[1]["id"]


def test_someone_elses_data_is_never_in_it(user, adas, mallorys):
    text = "".join(my_data_lines(user=user))

    assert "Mallory" not in text and "mallory" not in text
    assert len(json.loads(text)["ratings"]) == 1


def test_temporary_chats_are_not_in_it(user, adas, temporary):
    data = my_data(user)

    assert [c["title"] for c in data["conversations"]] == ["Picnic plans"]
    assert len(data["ratings"]) == 1
    assert "forget me" not in json.dumps(data)


def test_a_person_with_nothing_gets_empty_lists(user):
    data = my_data(user)

    assert (data["conversations"], data["ratings"], data["draft_picks"]) == ([], [], [])


def queries_for(user) -> int:
    with CaptureQueriesContext(connection) as queries:
        for _ in my_data_lines(user=user):
            pass
    return len(queries)


def test_the_queries_do_not_grow_with_the_conversations(user, other_user):
    rich_conversation(user)
    for n in range(40):
        rich_conversation(other_user, title=f"Chat {n}")

    # Profile and preferences, then per batch of conversations: them, their messages
    # (with contemplations and comparisons), the agents' runs and the attached files;
    # then ratings and picks.
    assert queries_for(other_user) == queries_for(user) <= 7
