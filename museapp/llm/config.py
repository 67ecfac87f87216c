"""Which models people can pick, which one answers, and how to reach it.

``MUSE_MODELS`` lists the selectable models as ``model=Label`` pairs (the
first is the default); otherwise ``MUSE_MODEL`` alone; otherwise the bundled
offline model, when installed.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from django.conf import settings

from museapp.llm import local
from museapp.llm.calls import ModelCall


@dataclass(frozen=True)
class ModelChoice:
    id: str
    label: str

    @property
    def is_local(self) -> bool:
        return local.is_local(self.id)


def parse_models(spec: str) -> list[ModelChoice]:
    choices: list[ModelChoice] = []
    for item in spec.split(","):
        model, _, label = item.strip().partition("=")
        model = model.strip()
        if model and all(c.id != model for c in choices):
            choices.append(ModelChoice(model, label.strip() or default_label(model)))
    return choices


def default_label(model: str) -> str:
    return local.LABEL if local.is_local(model) else model


def available_models() -> list[ModelChoice]:
    if settings.MUSE_MODELS:
        return parse_models(settings.MUSE_MODELS)
    if settings.MUSE_MODEL:
        return [ModelChoice(settings.MUSE_MODEL, default_label(settings.MUSE_MODEL))]
    if settings.MUSE_OFFLINE_MODEL and local.available():
        return [ModelChoice(local.MODEL, local.LABEL)]
    return []


def configured_model(preferred: str = "") -> str:
    """The model to use: ``preferred`` when it is still on offer, else the
    default; "" when no model is configured at all."""
    models = available_models()
    if any(m.id == preferred for m in models):
        return preferred
    return models[0].id if models else ""


def label_for(model: str) -> str:
    for choice in available_models():
        if choice.id == model:
            return choice.label
    return default_label(model)


def vision_models() -> list[str]:
    """Models said to take images (MUSE_VISION_MODELS), besides those litellm knows."""
    return list(settings.MUSE_VISION_MODELS)


DEFAULT_SYSTEM_PROMPT = "You are Muse, a helpful assistant. Answer clearly; use Markdown when it helps."


def system_prompt(model: str = "") -> str:
    """MUSE_SYSTEM_PROMPT; unset, the offline model's own (chosen with
    `manage.py evaluate`: a 135M model takes "use Markdown" as something to
    say), else Muse's."""
    if settings.MUSE_SYSTEM_PROMPT:
        return settings.MUSE_SYSTEM_PROMPT
    return local.SYSTEM_PROMPT if local.is_local(model) else DEFAULT_SYSTEM_PROMPT


def model_call(*, model: str, messages: list[dict[str, str]], **overrides) -> ModelCall:
    """A call with the configured limits; the endpoint is left to the worker
    (``with_endpoint``), so nothing secret goes into a task."""
    options = {
        "max_tokens": settings.MUSE_MAX_TOKENS,
        "timeout": settings.MUSE_LLM_TIMEOUT,
        "retries": settings.MUSE_LLM_RETRIES,
    }
    return ModelCall(model=model, messages=messages, **{**options, **overrides})


def with_endpoint(call: ModelCall) -> ModelCall:
    """``call`` with this process's endpoint for its model (MUSE_API_BASE and
    MUSE_API_KEY for configured models; none for the offline one), unless it
    names one itself. Provider keys such as OPENAI_API_KEY litellm reads from
    the environment on its own."""
    if call.api_base or call.api_key or local.is_local(call.model):
        return call
    return replace(call, api_base=settings.MUSE_API_BASE or None, api_key=settings.MUSE_API_KEY or None)
