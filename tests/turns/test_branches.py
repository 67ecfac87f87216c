"""Versions and branches: a conversation is a tree of messages, and the
branch shown (the current leaf up to the first message) is what the page
shows and the model reads. Services only: no sockets, no workers."""

from importlib import import_module

import pytest
from asgiref.sync import async_to_sync
from django.apps import apps

from museapp.chat import branches
from museapp.chat.context import model_context
from museapp.chat.models import Conversation, Message
from museapp.chat.services import InvalidMessage, conversation_messages
from museapp.streams import running
from museapp.turns import services as turns
from tests.markup import parse_html

pytestmark = pytest.mark.django_db


def finish(answer: Message, text: str) -> Message:
    """What the worker does at an answer's end: save it, give back the slot."""
    Message.objects.filter(pk=answer.pk).update(status=Message.Status.DONE, content=text)
    async_to_sync(running.release)(owner_id=answer.conversation.user_id, stream=answer.stream)
    answer.refresh_from_db()
    return answer


def turn(conversation, question: str, answer: str):
    started = turns.turn_start(conversation=conversation, text=question)
    return started.user_message, finish(started.answer, answer)


def shown(conversation) -> list[str]:
    conversation.refresh_from_db()
    messages, _ = conversation_messages(conversation=conversation)
    return [m.content for m in messages]


def read_for(answer: Message) -> list[str]:
    """What the model reads for this answer, less the system prompt."""
    return [m["content"] for m in model_context(conversation_id=answer.conversation_id, before_id=answer.pk)[1:]]


def test_each_turn_hangs_under_the_last_and_becomes_the_current_leaf(conversation):
    question, answer = turn(conversation, "Name a tea", "Sencha.")
    second_question, second_answer = turn(conversation, "And another", "Assam.")

    conversation.refresh_from_db()
    assert (question.parent_id, answer.parent_id) == (None, question.pk)
    assert second_question.parent_id == answer.pk and second_answer.parent_id == second_question.pk
    assert conversation.current_leaf_id == second_answer.pk


def test_regenerate_adds_a_version_shown_in_place_of_the_old_one(conversation):
    question, first = turn(conversation, "Name a tea", "Sencha.")

    regenerated = finish(turns.answer_regenerate(message=first).answer, "Gyokuro.")

    assert regenerated.parent_id == question.pk
    assert shown(conversation) == ["Name a tea", "Gyokuro."]
    messages, _ = conversation_messages(conversation=conversation)
    assert messages[1].versions == branches.VersionNav(2, 2, first.pk, None)
    assert messages[0].versions is None, "one version of the question"
    assert read_for(regenerated) == ["Name a tea"], "the old version is not read"


def test_regenerate_runs_as_asked_whatever_the_old_one_did(conversation):
    _, first = turn(conversation, "Name a tea", "Sencha.")

    contemplated = turns.answer_regenerate(message=first, contemplate=True)
    matcha = finish(contemplated.answer, "Matcha.")
    quick = turns.answer_regenerate(message=matcha, contemplate=False)
    finish(quick.answer, "Bancha.")
    again = turns.answer_regenerate(message=matcha)

    assert isinstance(contemplated.run, turns.ContemplatedAnswer)
    assert isinstance(quick.run, turns.QuickAnswer)
    assert isinstance(again.run, turns.ContemplatedAnswer), "by default, the way that answer ran"


def test_a_streaming_answer_or_a_question_cannot_be_regenerated(conversation):
    started = turns.turn_start(conversation=conversation, text="Name a tea")

    with pytest.raises(InvalidMessage, match="Only a finished, failed or stopped answer"):
        turns.answer_regenerate(message=started.answer)
    with pytest.raises(InvalidMessage):
        turns.answer_regenerate(message=started.user_message)


def test_editing_starts_a_branch_and_keeps_the_old_one_to_go_back_to_and_continue(conversation):
    question, answer = turn(conversation, "Name a green tea", "Sencha.")
    turn(conversation, "Is it bitter?", "A little.")

    edited = turns.question_edit(message=question, text="Name a black tea")
    finish(edited.answer, "Assam.")

    assert shown(conversation) == ["Name a black tea", "Assam."]
    assert edited.user_message.parent_id is None and edited.answer.parent_id == edited.user_message.pk
    assert read_for(edited.answer) == ["Name a black tea"]

    turns.branch_show(message=question)  # "Previous version" on the question
    assert shown(conversation) == ["Name a green tea", "Sencha.", "Is it bitter?", "A little."]

    _, continued = turn(conversation, "How long to steep?", "Two minutes.")
    assert read_for(continued) == ["Name a green tea", "Sencha.", "Is it bitter?", "A little.", "How long to steep?"]
    turns.branch_show(message=edited.user_message)
    assert shown(conversation) == ["Name a black tea", "Assam."]


def test_an_edit_later_in_the_conversation_keeps_what_came_before(conversation):
    turn(conversation, "Name a tea", "Sencha.")
    question, _ = turn(conversation, "Is it bitter?", "A little.")

    edited = turns.question_edit(message=question, text="Is it sweet?")

    assert shown(conversation) == ["Name a tea", "Sencha.", "Is it sweet?", ""]
    assert read_for(edited.answer) == ["Name a tea", "Sencha.", "Is it sweet?"]
    messages, _ = conversation_messages(conversation=conversation)
    assert messages[2].versions.position == 2 and messages[2].versions.count == 2


def test_an_answer_cannot_be_edited_and_an_edit_cannot_be_empty(conversation):
    question, answer = turn(conversation, "Name a tea", "Sencha.")

    with pytest.raises(InvalidMessage):
        turns.question_edit(message=answer, text="Changed")
    with pytest.raises(InvalidMessage):
        turns.question_edit(message=question, text="   ")
    assert shown(conversation) == ["Name a tea", "Sencha."]


def test_showing_a_version_goes_down_its_newest_replies(conversation):
    question, first = turn(conversation, "Name a tea", "Sencha.")
    turn(conversation, "Another?", "Assam.")
    second = finish(turns.answer_regenerate(message=first).answer, "Gyokuro.")

    turns.branch_show(message=first)
    assert shown(conversation) == ["Name a tea", "Sencha.", "Another?", "Assam."]
    turns.branch_show(message=second)
    assert shown(conversation) == ["Name a tea", "Gyokuro."]


def test_the_migration_links_an_old_conversation_into_one_line(user):
    migration = import_module("museapp.chat.migrations.0009_message_tree")
    conversation = Conversation.objects.create(user=user)
    old = Message.objects.bulk_create([  # as rows were before the tree: no parents
        Message(conversation=conversation, author=author, content=f"{author} {i}")
        for i, author in enumerate(["user", "assistant"] * 3)
    ])
    assert Message.objects.filter(conversation=conversation, parent__isnull=False).count() == 0

    migration.link_in_order(apps, None)

    ids = [m.pk for m in old]
    parents = dict(Message.objects.filter(conversation=conversation).values_list("id", "parent_id"))
    assert parents == {ids[0]: None, **{later: earlier for earlier, later in zip(ids, ids[1:])}}
    assert shown(conversation) == [m.content for m in old], "nothing lost"


def test_the_branch_shown_is_read_in_one_query_of_ids(conversation, django_assert_num_queries):
    for i in range(5):
        turn(conversation, f"Question {i}", f"Answer {i}")
    conversation.refresh_from_db()

    with django_assert_num_queries(1):
        assert len(branches.shown(conversation)) == 10


def test_a_rating_stays_with_the_version_it_was_given_on(conversation, client, user):
    _, first = turn(conversation, "Name a tea", "Sencha.")
    client.force_login(user)
    client.post(f"/m/{first.pk}/rate/", {"value": "up"})

    second = finish(turns.answer_regenerate(message=first).answer, "Gyokuro.")

    def pressed() -> list[str]:
        page = parse_html(client.get(f"/c/{conversation.pk}/").content.decode())
        return [page.one("button", aria_label=name).attrs["aria-pressed"] for name in ("Thumbs up", "Thumbs down")]

    assert pressed() == ["false", "false"], "the new version has no rating"
    turns.branch_show(message=first)
    assert pressed() == ["true", "false"], "the old one keeps its thumbs up"
    assert second.ratings.count() == 0 and first.ratings.count() == 1
