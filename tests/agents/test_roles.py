"""The agents' team (museapp/agents/roles.py): its size and its temperature
ladder, per model."""

import pytest

from museapp.agents.roles import (
    ANSWER_LINE,
    ROLES,
    agent_count,
    briefs,
    system_prompt,
    temperature_ladder,
    temperature_range,
    temperatures,
)
from museapp.llm import local


def test_the_ladder_spreads_the_temperatures_evenly():
    assert temperature_ladder(4, 0.0, 0.6) == [0.0, 0.2, 0.4, 0.6]
    assert temperature_ladder(4) == [0.2, 0.47, 0.73, 1.0]


def test_provider_models_use_the_wide_ladder_and_the_offline_model_its_own(settings):
    settings.MUSE_AGENT_TEMPERATURES = []
    assert temperature_range("openai/gpt-4o-mini") == (0.2, 1.0)
    assert temperature_range(local.MODEL) == local.AGENT_TEMPERATURES


def test_the_setting_overrides_the_ladder_for_every_model(settings):
    settings.MUSE_AGENT_TEMPERATURES = ["0.7", "0.1"]
    assert temperature_range(local.MODEL) == temperature_range("openai/gpt-4o-mini") == (0.1, 0.7)


@pytest.mark.parametrize(("requested", "count"), [(None, 4), (3, 3), (1, 2), (20, 8)])
def test_a_team_has_two_to_eight_agents(settings, requested, count):
    settings.MUSE_AGENTS = 4
    assert agent_count(requested) == count


def test_provider_models_agents_get_their_role_and_the_offline_models_what_it_measured_best(settings):
    settings.MUSE_AGENT_BRIEFS = ""
    skeptic = ROLES[2]
    assert "You are the Skeptic" in system_prompt(skeptic, "Base.", "openai/gpt-4o-mini")
    assert briefs(local.MODEL) == local.AGENT_BRIEFS


@pytest.mark.parametrize(("chosen", "told"), [
    ("role", f"Base.\n\nYou are the Skeptic on a team answering together. {ROLES[2].brief} {ANSWER_LINE}"),
    ("answer", f"Base. {ANSWER_LINE}"),
    ("none", "Base."),
])
def test_the_briefs_setting_decides_for_every_model(settings, chosen, told):
    settings.MUSE_AGENT_BRIEFS = chosen
    assert system_prompt(ROLES[2], "Base.", local.MODEL) == system_prompt(ROLES[2], "Base.", "openai/x") == told


def test_the_first_agent_anchors_at_temperature_zero_and_the_rest_explore(settings):
    settings.MUSE_AGENT_TEMPERATURES = ["0.2", "1.0"]
    assert temperatures(4) == [0.0, 0.2, 0.6, 1.0]
    settings.MUSE_AGENT_ANCHOR = False
    assert temperatures(4) == [0.2, 0.47, 0.73, 1.0]
