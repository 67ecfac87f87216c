"""Which model answers, and how to reach it, from settings."""

from django.conf import settings

from museapp.llm.adapter import ModelCall


def configured_model() -> str:
    """The model string, or "" when none is configured."""
    return settings.MUSE_MODEL


def model_call(*, model: str, messages: list[dict[str, str]], **overrides) -> ModelCall:
    return ModelCall(
        model=model,
        messages=messages,
        api_base=settings.MUSE_API_BASE,
        api_key=settings.MUSE_API_KEY,
        max_tokens=settings.MUSE_MAX_TOKENS,
        timeout=settings.MUSE_LLM_TIMEOUT,
        retries=settings.MUSE_LLM_RETRIES,
        **overrides,
    )
