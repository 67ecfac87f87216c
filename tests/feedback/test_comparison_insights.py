"""The insights page leads with the blind comparisons: the contemplated
answer's share of preferences with an interval, its length-controlled
estimate, the splits, and what it cost over the quick answer."""

import re
from decimal import Decimal

import pytest
from django.utils import timezone

from museapp.agents.models import AgentRun, Comparison, Contemplation
from museapp.chat.models import Conversation, Message
from museapp.feedback.insights import wilson
from museapp.feedback.preference import comparisons

pytestmark = pytest.mark.django_db(transaction=True)


def compared(conversation, index, choice, *, strategy="synthesize", agents=4, agreement=4, chars=(400, 400),
             judge="openai/fake-model"):
    message = Message.objects.create(conversation=conversation, author="assistant", content=f"answer {index}",
                                     status="done", model="openai/fake-model")
    contemplation = Contemplation.objects.create(message=message, strategy=strategy, strategy_used=strategy,
                                                 agent_count=agents, agreement=agreement, deadline_s=60,
                                                 status="done")
    quick = AgentRun.objects.create(contemplation=contemplation, kind="quick", index=0, role="Quick answer",
                                    model="openai/fake-model", text="quick", status="done")
    return Comparison.objects.create(
        contemplation=contemplation, quick_run=quick, contemplated_position=1 + index % 2, choice=choice,
        chosen_at=timezone.now(), contemplated_chars=chars[0], quick_chars=chars[1], contemplated_tokens=1200,
        quick_tokens=200, contemplated_cost=Decimal("0.0050"), quick_cost=Decimal("0.0010"), contemplated_ms=6000,
        quick_ms=1000, strategy=strategy, agent_count=agents, agreement=agreement,
        judge_model=judge if strategy == "synthesize" else "")


@pytest.fixture
def seeded(user):
    """30 preferences (18 contemplated, 8 quick, 4 about the same) and 3 skips,
    at equal lengths and balanced positions."""
    conversation = Conversation.objects.create(user=user)
    choices = ["contemplated"] * 18 + ["quick"] * 8 + ["same"] * 4 + ["skipped"] * 3
    for index, choice in enumerate(choices):
        compared(conversation, index, choice, strategy="vote" if index % 3 == 0 else "synthesize",
                 agreement=4 if index % 2 else 2)
    return conversation


def test_the_share_counts_ties_half_and_leaves_skips_out(seeded):
    overall = comparisons(30)["overall"]

    share = overall.share
    assert (share.n, overall.skipped) == (30, 3)
    assert share.rate == pytest.approx(20 / 30)
    assert share.interval == pytest.approx(wilson(20, 30))


def test_the_extra_cost_is_the_contemplated_answer_over_the_quick_one(seeded):
    overall = comparisons(30)["overall"]

    assert (overall.extra_tokens, overall.extra_seconds) == (1000, 5.0)
    assert overall.extra_cost == pytest.approx(0.004)


def test_at_equal_lengths_the_length_controlled_estimate_agrees_with_the_raw_share(seeded):
    fit = comparisons(30)["fit"]

    assert fit.n == 30 and fit.length == pytest.approx(0, abs=1e-9)
    assert fit.preference == pytest.approx(20 / 30, abs=0.01)
    assert fit.interval[0] < 0.5 < fit.interval[1]


def test_splits_by_strategy_agents_agreement_and_judge(seeded):
    splits = dict(comparisons(30)["splits"])

    by_strategy = {row.label: row.share.n for row in splits["By merge strategy"]}
    assert by_strategy == {"Synthesize": 20, "Vote": 10}
    assert {row.label for row in splits["By agreement"]} == {"All drafts agree", "Drafts split"}
    assert {row.label for row in splits["By number of agents"]} == {"4 agents"}
    assert {row.label for row in splits["By judge model"]} == {
        "Fake model", "No judge (vote, consensus, confidence or unanimous)"}


def test_the_page_says_not_yet_distinguishable_and_how_many_more_are_needed(client, analyst, seeded):
    client.force_login(analyst)

    page = client.get("/insights/?period=30").content.decode()

    # 66.7% of 30: the interval holds 50% until n = 1.96^2 / (4 * 0.1667^2) = 35, five more.
    assert "Not yet distinguishable (need about 5 more comparisons)" in page
    assert "preferred in 66.7% of 30 comparisons" in page
    assert "at 1000 more tokens, $0.0040 more and 5.0 s longer per answer" in page
    assert re.search(r"Length-controlled: 66\.\d% \(95% CI", page)
    assert page.index("Blind comparisons") < page.index("Thumbs, unpaired") < page.index("Quick versus contemplating")
    assert "confounded by which questions were asked" in page and 'href="/insights/evals/"' in page


def test_a_clear_preference_is_called_as_such(client, analyst, user):
    conversation = Conversation.objects.create(user=user)
    for index in range(40):
        compared(conversation, index, "quick" if index < 30 else "contemplated")
    client.force_login(analyst)

    page = client.get("/insights/").content.decode()

    assert 'data-verdict="quick"' in page and "Quick answers are preferred" in page


def test_no_comparisons_yet_is_said_plainly(client, analyst):
    client.force_login(analyst)

    page = client.get("/insights/").content.decode()

    assert "No blind comparisons in this period yet." in page


def test_an_evaluations_comparisons_are_not_peoples(user):
    conversation = Conversation.objects.create(user=user, is_evaluation=True)
    compared(conversation, 0, "contemplated")

    assert comparisons(None)["overall"].share is None
