"""conversations_search, the one search function, on whichever database the
tests run with (SQLite's FTS5 or PostgreSQL's full-text search): it ranks,
escapes its snippets, and finds only the person's own listed conversations,
as their messages are saved, edited and deleted."""

import pytest

from museapp.chat.models import Conversation, Message
from museapp.search.services import conversations_search

pytestmark = pytest.mark.django_db

XSS = '<img src=x onerror=alert(1)> <script>alert("walrus")</script> the walrus'


def chat(user, title="", *texts, **fields) -> Conversation:
    conversation = Conversation.objects.create(user=user, title=title, **fields)
    for i, text in enumerate(texts):
        Message.objects.create(conversation=conversation, author="assistant" if i % 2 else "user", content=text)
    return conversation


def found(user, text) -> list[int]:
    return [result.conversation_id for result in conversations_search(user=user, text=text)]


def test_a_message_word_finds_its_conversation_and_message(user):
    picnic = chat(user, "Weekend", "Where should we have the picnic?", "By the lake, under the oaks.")
    chat(user, "Taxes", "How do I file my taxes?")

    [result] = conversations_search(user=user, text="lake")

    assert result.conversation_id == picnic.pk
    assert result.message_id == picnic.messages.get(author="assistant").pk
    assert "<mark>lake</mark>" in result.snippet_html


def test_every_word_must_match(user):
    chat(user, "", "apples and pears")
    both = chat(user, "", "apples and oranges")

    assert found(user, "apples oranges") == [both.pk]


def test_the_last_word_matches_as_typed_so_far(user):
    kettle = chat(user, "", "The kettle whistles.")

    assert found(user, "kett") == [kettle.pk]


def test_word_forms_match_each_other(user):
    running = chat(user, "", "I was running late.")

    assert found(user, "runs") == [running.pk]


def test_more_matches_rank_first(user):
    once = chat(user, "", "A heron stood in the reeds by the river.")
    often = chat(user, "", "Heron facts: the grey heron hunts fish; a heron nests in colonies.")

    assert found(user, "heron") == [often.pk, once.pk]


def test_a_title_match_ranks_first(user):
    in_text = chat(user, "Birds", "Herons and egrets, herons everywhere.")
    in_title = chat(user, "Heron photos", "Some pictures from the marsh.")

    assert found(user, "heron") == [in_title.pk, in_text.pk]


def test_a_title_alone_is_found_with_the_title_marked(user):
    titled = chat(user, "Budget <2025>", "Numbers only.")

    [result] = conversations_search(user=user, text="budget")

    assert result.conversation_id == titled.pk and result.message_id is None
    assert result.title_html == "<mark>Budget</mark> &lt;2025&gt;"


def test_snippets_are_escaped_and_only_the_words_found_are_marked(user):
    chat(user, "<b>bold</b> title", XSS)

    [result] = conversations_search(user=user, text="walrus")

    assert "<img" not in result.snippet_html and "<script" not in result.snippet_html
    assert "&lt;img src=x onerror=alert(1)&gt;" in result.snippet_html
    assert "<mark>walrus</mark>" in result.snippet_html
    assert result.snippet_html.replace("<mark>", "").replace("</mark>", "").count("<") == 0
    assert result.title_html == "&lt;b&gt;bold&lt;/b&gt; title"


def test_a_message_with_the_databases_markers_still_gives_balanced_marks(user):
    chat(user, "", "odd \ue001 text \ue000 about otters")

    [result] = conversations_search(user=user, text="otters")

    assert result.snippet_html.count("<mark>") == result.snippet_html.count("</mark>")


@pytest.mark.parametrize("text", ['"', "walrus*", "walrus NEAR(x y)", "title:walrus", "(walrus", "walrus)",
                                  "AND OR NOT", "^walrus", "'walrus'", "walrus -x", "a & b | !c", "\\", "%_",
                                  "x" * 10_000, "walrus " * 500, "\x00", "🦭 walrus"])
def test_query_syntax_and_huge_input_never_raise(user, text):
    chat(user, "", XSS)

    conversations_search(user=user, text=text)


def test_query_syntax_is_searched_as_words(user):
    walrus = chat(user, "", XSS)

    assert found(user, 'walrus NEAR("x"') == []  # the message lacks the word "near"
    assert found(user, '"walrus*"') == [walrus.pk]


def test_an_empty_box_finds_nothing(user):
    chat(user, "Anything", "anything")

    assert found(user, "") == [] and found(user, "  ,.;  ") == []


def test_others_messages_and_titles_are_never_found(user, other_user):
    chat(other_user, "Walrus secrets", "my walrus secret")

    assert found(user, "walrus") == []
    assert found(user, "secret") == []


def test_temporary_chats_are_never_found(user):
    chat(user, "Walrus (temporary)", "a walrus, briefly", is_temporary=True)

    assert found(user, "walrus") == []


def test_a_message_is_found_as_soon_as_it_is_saved(user):
    conversation = chat(user, "")

    Message.objects.create(conversation=conversation, author="user", content="Quokkas smile.")

    assert found(user, "quokkas") == [conversation.pk]


def test_an_edited_message_is_found_by_its_new_text_only(user):
    conversation = chat(user, "", "Quokkas smile.")

    Message.objects.filter(conversation=conversation).update(content="Wombats dig.")

    assert found(user, "quokkas") == []
    assert found(user, "wombats") == [conversation.pk]


def test_an_answer_written_as_it_streams_is_found_when_saved(user):
    conversation = chat(user, "", "Tell me about narwhals")
    answer = Message.objects.create(conversation=conversation, author="assistant", status="streaming")

    answer.content = "The narwhal's tusk is a tooth."
    answer.save()

    [result] = conversations_search(user=user, text="tusk")
    assert result.message_id == answer.pk


def test_a_deleted_conversation_is_gone(user):
    conversation = chat(user, "Narwhals", "narwhal tusks")

    conversation.delete()

    assert found(user, "narwhal") == []
    assert found(user, "tusks") == []


def test_each_conversation_is_one_result_through_its_best_message(user):
    conversation = chat(user, "", "otter", "otter otter otter, said the otter", "an otter")

    [result] = conversations_search(user=user, text="otter")

    assert result.conversation_id == conversation.pk
    assert result.message_id == conversation.messages.order_by("id")[1].pk


def test_results_are_capped(user):
    for i in range(25):
        chat(user, "", f"puffin number {i}")

    assert len(found(user, "puffin")) == 20
