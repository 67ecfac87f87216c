"""Which system prompt a model gets (museapp/llm/config.py)."""

from museapp.llm import local
from museapp.llm.config import DEFAULT_SYSTEM_PROMPT, system_prompt


def test_unset_the_offline_model_gets_its_own_prompt_and_others_muses(settings):
    settings.MUSE_SYSTEM_PROMPT = ""
    assert system_prompt(local.MODEL) == local.SYSTEM_PROMPT
    assert system_prompt("openai/gpt-4o-mini") == system_prompt() == DEFAULT_SYSTEM_PROMPT


def test_the_setting_is_every_models_prompt(settings):
    settings.MUSE_SYSTEM_PROMPT = "Be brief."
    assert system_prompt(local.MODEL) == system_prompt("openai/gpt-4o-mini") == "Be brief."
