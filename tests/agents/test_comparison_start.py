"""Which contemplated turns are compared, and how their comparison starts."""

import pytest
from django.db import transaction

from museapp.agents import starting as agents
from museapp.agents.models import AgentRun, Comparison
from museapp.chat import services as chat
from museapp.chat.models import Conversation
from museapp.turns import services as turns

pytestmark = pytest.mark.django_db


@pytest.fixture
def conversation(user):
    return Conversation.objects.create(user=user, title="Geography")


def test_the_order_is_drawn_per_turn_and_kept(conversation):
    positions = set()
    with transaction.atomic():
        for _ in range(40):
            answer = chat.answer_placeholder(conversation=conversation)
            agents.contemplation_start(conversation=conversation, answer=answer, agents=2, compare=True)
            positions.add(Comparison.objects.get(contemplation__message=answer).contemplated_position)

    assert positions == {1, 2}


def test_a_compared_turn_has_one_quick_run_beside_its_agents(conversation):
    with transaction.atomic():
        answer = chat.answer_placeholder(conversation=conversation)
        start = agents.contemplation_start(conversation=conversation, answer=answer, agents=3, compare=True)

    runs = AgentRun.objects.filter(contemplation=start.contemplation)
    assert sorted(runs.values_list("kind", flat=True)) == ["agent", "agent", "agent", "quick"]
    quick = runs.get(kind="quick")
    assert start.quick.run_id == quick.pk and quick.model == answer.model and quick.temperature is None


@pytest.mark.parametrize("rate, opted_out, evaluation, compared", [
    (1.0, False, False, True), (0.0, False, False, False), (1.0, True, False, False), (1.0, False, True, False)])
def test_a_turn_is_compared_at_the_rate_unless_the_person_opted_out(settings, user, conversation, rate, opted_out,
                                                                   evaluation, compared):
    settings.MUSE_COMPARE_RATE = rate
    chat.preferences_update(user=user, compare_answers=not opted_out)
    Conversation.objects.filter(pk=conversation.pk).update(is_evaluation=evaluation)
    conversation.refresh_from_db()

    assert turns.compare_drawn(conversation) is compared


def test_the_rate_is_a_share_of_turns(settings, conversation):
    settings.MUSE_COMPARE_RATE = 0.25

    draws = [turns.compare_drawn(conversation) for _ in range(2000)]

    assert 0.2 < sum(draws) / len(draws) < 0.3  # binomial sd ~0.01: five sd either side
