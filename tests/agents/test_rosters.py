"""Agents from several models: rosters parsed against the models on offer,
offered in the strategy menu, refused when a model is not on offer, and run
by a contemplation, each agent calling its own model."""

import pytest

from museapp.agents.rosters import InvalidRoster, roster_choices, roster_models
from museapp.evals.conditions import parse_condition
from museapp.llm.config import ModelChoice
from tests.sockets import Frames, answer_ended, answer_of, open_chat, send

A, B = "openai/fake-model", "openai/fake-model-2"
OFFERED = [ModelChoice(A, "Fake"), ModelChoice(B, "Fake two")]


def test_a_roster_names_each_agents_model_in_order():
    assert roster_models(f"2x{A}+2x{B}", OFFERED) == [A, A, B, B]
    assert roster_models(f"3 × {B}", OFFERED) == [B, B, B]


@pytest.mark.parametrize(("roster", "reason"), [
    ("2xopenai/gpt-5+2xopenai/fake-model", "openai/gpt-5 is not one of the models on offer."),
    (f"9x{A}", "A team has 2 to 8 agents, not 9."),
    (f"1x{A}", "A team has 2 to 8 agents, not 1."),
    ("<script>", "'<script>' is not a roster: write it as 2xMODEL+2xMODEL."),
])
def test_a_roster_muse_will_not_run_is_refused_with_a_reason(roster, reason):
    with pytest.raises(InvalidRoster) as refused:
        roster_models(roster, OFFERED)
    assert str(refused.value) == reason


def test_the_menu_offers_each_model_alone_and_the_first_half_and_half_with_the_others():
    assert roster_choices(4, OFFERED) == [
        (f"4x{A}", "Agents: 4 × Fake"), (f"4x{B}", "Agents: 4 × Fake two"),
        (f"2x{A}+2x{B}", "Agents: 2 × Fake + 2 × Fake two")]
    assert roster_choices(4, OFFERED[:1]) == []


def test_evaluate_takes_a_roster_as_a_condition():
    condition = parse_condition(f"consensus:2x{A}+2x{B}")

    assert (condition.strategy, condition.agents, condition.roster) == ("consensus", 4, f"2x{A}+2x{B}")
    with pytest.raises(ValueError, match="not one of the models on offer"):
        parse_condition("vote:2xopenai/gpt-5+2xopenai/fake-model")


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
@pytest.mark.usefixtures("celery_worker_process")
async def test_a_contemplation_runs_each_agent_on_the_model_its_roster_names(user, conversation, llm):
    socket = await open_chat(user, conversation.pk)
    frames = Frames(socket)
    await send(socket, message="Name a moon", contemplate="on", strategy="consensus", roster=f"2x{A}+2x{B}")
    await frames.contains("Name a moon")
    answer = await answer_of(conversation)
    text = await frames.until(answer_ended(answer.pk), timeout=30)
    await socket.disconnect()

    agents = [r for r in llm.requests_matching("Name a moon") if "Final answer" in r["messages"][0]["content"]]
    assert sorted(r["model"] for r in agents) == ["fake-model", "fake-model", "fake-model-2", "fake-model-2"]
    await conversation.arefresh_from_db()
    assert conversation.agent_roster == f"2x{A}+2x{B}"
    assert text.count('title="openai/fake-model-2"') >= 2, "each panel names its model"


@pytest.mark.django_db
def test_a_roster_with_a_model_not_on_offer_is_refused_and_nothing_changes(client, user, conversation):
    client.force_login(user)

    response = client.post(f"/c/{conversation.pk}/preferences/", {"roster": "4xopenai/gpt-5"})

    assert response.status_code == 400 and response.content.decode() == "openai/gpt-5 is not one of the models on offer."
    conversation.refresh_from_db()
    assert conversation.agent_roster == ""
