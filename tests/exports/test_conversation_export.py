"""A conversation's export: the JSON holds the whole tree with every version,
usage, timings and contemplations, and imports back into another person's
account as the same conversation; the Markdown is the branch shown, as text.
A fixed number of queries, however long the conversation."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from museapp.agents.models import AgentRun, Comparison, Contemplation
from museapp.chat.models import INTERRUPTED_REASON, Conversation, Message
from museapp.exports.conversations import conversation_export, with_trees
from museapp.exports.importing import conversation_import
from museapp.exports.markdown import conversation_markdown
from museapp.exports.rows import ImportRefused
from tests.exports.conversations import HOSTILE, answer, rich_conversation

pytestmark = pytest.mark.django_db


@pytest.fixture
def rich(user):
    return rich_conversation(user)


def exported(conversation) -> dict:
    return json.loads(json.dumps(conversation_export(conversation=conversation)))  # as a file holds it


def without_ids(data: dict) -> dict:
    """The export with its ids numbered in order of appearance: two exports
    of the same conversation under other ids become equal."""
    numbers: dict[tuple[str, int], int] = {}

    def number(kind: str, old: int | None) -> int | None:
        return None if old is None else numbers.setdefault((kind, old), len(numbers))

    conversation = dict(data["conversation"], id=None)
    for message in conversation["messages"]:  # parents come before their replies
        number("message", message["id"])
    conversation["current_leaf_id"] = number("message", conversation["current_leaf_id"])
    messages = []
    for message in conversation["messages"]:
        message = dict(message, id=number("message", message["id"]), parent_id=number("message", message["parent_id"]))
        if message["contemplation"]:
            contemplation = dict(message["contemplation"])
            contemplation["runs"] = [dict(run, id=number("run", run["id"])) for run in contemplation["runs"]]
            if contemplation["comparison"]:
                contemplation["comparison"] = dict(contemplation["comparison"],
                                                   quick_run_id=number("run", contemplation["comparison"]["quick_run_id"]))
            message["contemplation"] = contemplation
        messages.append(message)
    return {**data, "conversation": {**conversation, "messages": messages}}


# --- JSON ---------------------------------------------------------------------


def test_the_json_holds_every_message_and_version_with_its_usage_and_timings(rich):
    data = exported(rich)

    assert (data["format"], data["version"]) == ("muse.conversation", 1)
    conversation = data["conversation"]
    assert conversation["title"] == "Picnic plans" and conversation["model"] == "openai/fake-model"
    messages = conversation["messages"]
    assert [m["id"] for m in messages] == list(rich.messages.order_by("id").values_list("id", flat=True))
    assert [(m["author"], m["status"]) for m in messages] == [
        ("user", "done"), ("assistant", "stopped"), ("assistant", "done"), ("user", "done"), ("assistant", "done"),
        ("user", "done"), ("assistant", "error")]
    question, stopped, shown = messages[:3]
    assert stopped["parent_id"] == shown["parent_id"] == question["id"], "two versions of one answer"
    assert messages[5]["parent_id"] is None, "the edited first message starts a branch of its own"
    assert conversation["current_leaf_id"] == messages[4]["id"]
    assert {key: shown[key] for key in ("model", "prompt_tokens", "completion_tokens", "cost", "ttft_ms", "total_ms")} == {
        "model": "openai/fake-model", "prompt_tokens": 12, "completion_tokens": 34, "cost": "0.00012345",
        "ttft_ms": 210.5, "total_ms": 1830.0}
    assert messages[6]["error"] == "The model gave up."
    assert messages[3]["content"] == HOSTILE
    assert shown["created_at"] == rich.messages.get(pk=shown["id"]).created_at.isoformat()


def test_the_json_holds_the_contemplation_its_drafts_its_merge_and_its_comparison(rich):
    contemplation = exported(rich)["conversation"]["messages"][2]["contemplation"]

    assert (contemplation["strategy_used"], contemplation["agreement"], contemplation["tally"]) == ("vote", 2, {"42": 2})
    runs = contemplation["runs"]
    assert [(r["kind"], r["index"], r["role"], r["text"]) for r in runs] == [
        ("agent", 0, "Skeptic", "Draft 0: 42"), ("agent", 1, "Optimist", "Draft 1: 42"), ("merge", 0, "Vote", ""),
        ("quick", 0, "Quick", "Quick: 42")]
    assert (runs[0]["model"], runs[0]["temperature"], runs[0]["completion_tokens"], runs[0]["total_ms"]) == (
        "openai/m0", 0.7, 7, 400.0)
    comparison = contemplation["comparison"]
    assert (comparison["choice"], comparison["contemplated_position"]) == ("contemplated", 2)
    assert comparison["quick_run_id"] == runs[3]["id"]


# --- importing it back ----------------------------------------------------------


def test_exporting_importing_into_another_person_and_exporting_again_gives_the_same_data(rich, other_user):
    before = exported(rich)

    copy = conversation_import(user=other_user, data=before)

    assert copy.user == other_user and copy.pk != rich.pk
    after = exported(copy)
    assert after != before, "new ids"
    assert without_ids(after) == without_ids(before)
    assert Contemplation.objects.filter(message__conversation=copy).count() == 1
    assert Comparison.objects.get(contemplation__message__conversation=copy).quick_run.text == "Quick: 42"
    assert Message.objects.filter(conversation=rich).count() == 7, "the original is untouched"


def test_the_copy_shows_the_same_branch(rich, other_user):
    copy = conversation_import(user=other_user, data=exported(rich))

    assert conversation_markdown(with_trees(Conversation.objects.filter(pk=copy.pk)).get()).split("\n", 3)[3] == (
        conversation_markdown(with_trees(Conversation.objects.filter(pk=rich.pk)).get()).split("\n", 3)[3])


def test_what_was_still_running_arrives_ended(user, other_user):
    conversation = Conversation.objects.create(user=user)
    question = Message.objects.create(conversation=conversation, author="user", content="Hi")
    running = answer(conversation, question, "Hel", status="streaming")
    contemplation = Contemplation.objects.create(message=running, strategy="vote", agent_count=1, deadline_s=60)
    AgentRun.objects.create(contemplation=contemplation, index=0, role="Skeptic", model="m", text="Dra")

    copy = conversation_import(user=other_user, data=exported(conversation))

    message = copy.messages.get(author="assistant")
    assert (message.status, message.content, message.error) == ("error", "Hel", INTERRUPTED_REASON)
    assert message.contemplation.status == "failed"
    assert [(run.status, run.text) for run in message.contemplation.runs.all()] == [("failed", "Dra")]


@pytest.mark.parametrize("spoil, reason", [
    (lambda data: data.update(format="something else"), "not a conversation exported from Muse"),
    (lambda data: data.update(version=99), "format version is 99"),
    (lambda data: data["conversation"]["messages"][2].update(parent_id=10**9), "follows one that is not before it"),
    (lambda data: data["conversation"]["messages"][0].update(author="system"), "author is not valid"),
    (lambda data: data["conversation"]["messages"][0].update(created_at="yesterday"), "created_at is not valid"),
    (lambda data: data["conversation"].update(title="x" * 201), "title is not valid"),
    (lambda data: data["conversation"]["messages"][2]["contemplation"]["comparison"].update(quick_run_id=10**9),
     "quick answer is not among"),
])
def test_a_spoiled_file_is_refused_and_saves_nothing(rich, other_user, spoil, reason):
    data = exported(rich)
    spoil(data)

    with pytest.raises(ImportRefused, match=reason):
        conversation_import(user=other_user, data=data)

    assert not Conversation.objects.filter(user=other_user).exists()
    assert Message.objects.count() == 7 and AgentRun.objects.count() == 4


# --- Markdown -------------------------------------------------------------------


def markdown_of(conversation) -> str:
    return conversation_markdown(with_trees(Conversation.objects.filter(pk=conversation.pk)).get())


def test_the_markdown_is_the_branch_shown_a_heading_per_turn(rich):
    text = markdown_of(rich)

    assert text.startswith("# Picnic plans\n\nExported from Muse on ")
    assert [line.split(" · ")[0] for line in text.splitlines() if line.startswith("#")] == [
        "# Picnic plans", "## Turn 1", "### You", "### Muse", "## Turn 2", "### You", "### Muse"]
    assert "It is **42**." in text
    assert "Maybe 41." not in text and "6 × 9" not in text, "other versions are not on the branch shown"


def test_each_answer_says_its_model_tokens_timings_and_cost(rich):
    text = markdown_of(rich)

    assert "*Model: Fake model · contemplated by 2 agents (vote) · 12 → 34 tokens · first token 210 ms · " \
           "1.8 s in all · $0.0001*" in text


def test_hostile_html_stays_as_the_text_it_was(rich):
    text = markdown_of(rich)

    assert f"\n\n{HOSTILE}\n\n" in text
    assert "That looks like HTML: " + HOSTILE in text
    assert "&lt;" not in text and "&amp;" not in text


# --- queries --------------------------------------------------------------------


def queries_to_export(conversation) -> int:
    with CaptureQueriesContext(connection) as queries:
        conversation_export(conversation=conversation)
        markdown_of(conversation)
    return len(queries)


def test_the_queries_do_not_grow_with_the_messages(user):
    short, long = rich_conversation(user, "Short"), rich_conversation(user, "Long")
    for turn in range(20):
        question = Message.objects.create(conversation=long, author="user", content=f"Question {turn}")
        answer(long, question, f"Answer {turn}")

    assert queries_to_export(long) == queries_to_export(short) <= 8  # each: the conversation, messages, runs, files
