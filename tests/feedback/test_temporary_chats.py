"""A temporary chat is not kept: its ratings, comparisons and drafts are in
neither the analysts' export nor the insights."""

import json

import pytest

from museapp.agents.models import AgentRun
from museapp.chat.models import Conversation
from museapp.feedback.export import export_lines
from museapp.feedback.insights import report
from museapp.feedback.models import BestDraftPick, Rating
from museapp.feedback.preference import comparisons
from tests.exports.conversations import rich_conversation

pytestmark = pytest.mark.django_db


def rated_and_compared(user, title: str, *, temporary: bool) -> Conversation:
    """A contemplated answer, rated up, a draft picked, compared blind."""
    conversation = rich_conversation(user, title)
    answer = conversation.messages.get(content="It is **42**.")
    Rating.objects.create(user=user, message=answer, value=1, comment=f"{title} comment")
    BestDraftPick.objects.create(user=user, message=answer, run=AgentRun.objects.get(contemplation__message=answer,
                                                                                     kind="agent", index=1))
    Conversation.objects.filter(pk=conversation.pk).update(is_temporary=temporary)
    return conversation


@pytest.fixture
def kept_and_temporary(user):
    return rated_and_compared(user, "Kept", temporary=False), rated_and_compared(user, "Temporary", temporary=True)


def rows(**options) -> list[dict]:
    return [json.loads(line) for line in export_lines(fmt="jsonl", **options)]


def test_the_ratings_export_leaves_temporary_chats_out(kept_and_temporary):
    kept, _ = kept_and_temporary

    assert [row["message_id"] for row in rows()] == [kept.messages.get(content="It is **42**.").pk]


def test_the_pairs_leave_temporary_chats_out(kept_and_temporary):
    kept, _ = kept_and_temporary

    pairs = rows(pairs=True)

    assert {pair["message_id"] for pair in pairs} == {kept.messages.get(content="It is **42**.").pk}
    assert sorted(pair["source"] for pair in pairs) == ["best_draft", "blind_comparison"]


def test_the_insights_leave_temporary_chats_out(kept_and_temporary):
    data = report(None)

    assert sum(row.answers for row in data["modes"]) == 3, "the kept chat's two finished answers and one stopped"
    assert sum(row.rated for row in data["modes"]) == 1
    assert [rating.comment for rating in data["comments"]] == ["Kept comment"]
    overall = comparisons(None)["overall"]
    assert (overall.wins, overall.losses, overall.ties) == (1, 0, 0)
