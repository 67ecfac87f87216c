"""The one place that talks to litellm.

Everything else in Muse asks this module for a stream of text deltas and
reads the usage, cost and timings it records. litellm is imported lazily:
the import takes seconds, and the web process never needs it.
"""

from __future__ import annotations

import functools
import logging
import os
import time
from collections.abc import AsyncIterator
from typing import Any

from django.conf import settings

from museapp.llm import config, context, local
from museapp.llm.calls import ModelCall, StreamStats

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

log = logging.getLogger(__name__)

__all__ = ["REASONS", "ModelCall", "ModelError", "StreamStats", "history_chars", "sees_images", "stream_completion",
           "warm_up"]


class ModelError(Exception):
    """A model call failed; ``reason`` is fit to show to the person."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


_litellm = None


def _lib():
    global _litellm
    if _litellm is None:
        import litellm  # lazy: seconds to import, and the web process never calls a model

        litellm.suppress_debug_info = True
        litellm.drop_params = True
        local.register(litellm)
        _litellm = litellm
    return _litellm


def history_chars(model: str) -> int:
    """How much of a conversation's text is worth reading for ``model``."""
    return context.history_chars(model, _lib())


def sees_images(model: str) -> bool:
    """Whether ``model`` takes images: MUSE_VISION_MODELS, else litellm's
    knowledge of it (``litellm.supports_vision``)."""
    if model in config.vision_models():
        return True
    try:
        return bool(_lib().supports_vision(model=model))
    except Exception:  # noqa: BLE001 - a model litellm does not know
        return False


async def warm_up(model: str = "", call: ModelCall | None = None) -> None:
    """Pay litellm's import and first-call set-up (~0.3 s) once per process,
    not on someone's first message. A mock response makes no network call;
    ``call`` (a one-token request to a self-hosted server) also opens the
    HTTP connection."""
    lib = _lib()
    if call is not None:
        try:
            async for _delta in stream_completion(call, StreamStats()):
                pass
        except ModelError:
            pass
    try:
        response = await lib.acompletion(
            model=model or "openai/gpt-4o-mini",
            messages=[{"role": "user", "content": "warm up"}],
            mock_response="ready",
            stream=True,
            stream_options={"include_usage": True},
        )
        async for _chunk in response:
            pass
        lib.cost_per_token(model="gpt-4o-mini", prompt_tokens=1, completion_tokens=1)
        lib.token_counter(model=model or "gpt-4o-mini", messages=[{"role": "user", "content": "warm up"}])
    except Exception:  # noqa: BLE001 - warming must never stop a worker
        pass


async def stream_completion(call: ModelCall, stats: StreamStats) -> AsyncIterator[str]:
    """Yield the answer's text deltas as they arrive; fill ``stats``.

    Raises ModelError with a human-readable reason on any provider failure,
    before or during the stream. What was yielded before a failure stays
    valid: the caller keeps it and marks the answer incomplete.
    """
    call, blind = (call, []) if sees_images(call.model) else context.images_left_out(call)
    call, cuts = context.fit(config.with_endpoint(call), _lib())
    stats.context_note = "; ".join(blind + cuts)
    pieces = 0
    try:
        response = await _lib().acompletion(**_request(call))
        async for chunk in response:
            delta = _read_chunk(chunk, stats)
            if delta:
                if stats.first_token_at is None:
                    stats.first_token_at = time.monotonic()
                pieces += 1
                yield delta
    except ModelError:
        raise
    except Exception as exc:  # litellm maps provider errors to many types
        raise ModelError(describe_error(exc, call)) from exc
    finally:
        stats.ended_at = time.monotonic()
        if stats.completion_tokens is None and pieces:
            stats.completion_tokens = pieces
        stats.cost = _cost(call.model, stats)


def _request(call: ModelCall) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "model": call.model,
        "messages": context.wire(call.messages),
        "stream": True,
        "stream_options": {"include_usage": True},
        "timeout": call.timeout,
        "num_retries": call.retries,
        "max_retries": call.retries,
    }
    optional = {"api_base": call.api_base, "api_key": call.api_key, "max_tokens": call.max_tokens}
    kwargs.update({name: value for name, value in optional.items() if value})
    if call.temperature is not None:
        kwargs["temperature"] = call.temperature
    if gives_logprobs(call.model):
        kwargs["logprobs"] = True
    return kwargs


@functools.lru_cache(maxsize=64)
def gives_logprobs(model: str) -> bool:
    """Ask for the tokens' log-probabilities (the merge's confidence) where
    litellm says the provider takes the parameter; the offline model sends
    them unasked. MUSE_LOGPROBS=false never asks."""
    if not settings.MUSE_LOGPROBS or local.is_local(model):
        return False
    try:
        return "logprobs" in (_lib().get_supported_openai_params(model=model) or [])
    except Exception:  # noqa: BLE001 - a model litellm does not know
        return False


def _read_chunk(chunk: Any, stats: StreamStats) -> str:
    """A chunk's text delta ("" for none); usage and the finish reason go to ``stats``."""
    usage = getattr(chunk, "usage", None)
    if usage:
        stats.prompt_tokens = getattr(usage, "prompt_tokens", None)
        stats.completion_tokens = getattr(usage, "completion_tokens", None)
    if not chunk.choices:  # the usage chunk carries no choices
        return ""
    choice = chunk.choices[0]
    if choice.finish_reason:
        stats.finish_reason = choice.finish_reason
    stats.logprobs.extend(_logprobs(choice))
    delta = (choice.delta.content if choice.delta else None) or ""
    return delta.replace("\x00", "")


def _logprobs(choice: Any) -> list[float]:
    """The chunk's tokens' log-probabilities: OpenAI's ``logprobs.content``,
    or the offline model's own field."""
    given = getattr(choice, "logprobs", None)
    content = getattr(given, "content", None) if given is not None else None
    if content:
        return [float(item.logprob) for item in content if getattr(item, "logprob", None) is not None]
    fields = getattr(choice.delta, "provider_specific_fields", None) if choice.delta else None
    return list((fields or {}).get(local.LOGPROBS) or [])  # PostgreSQL text cannot hold it; no one can see it


def _cost(model: str, stats: StreamStats) -> float | None:
    if stats.prompt_tokens is None and stats.completion_tokens is None:
        return None
    try:
        prompt_cost, completion_cost = _lib().cost_per_token(
            model=model,
            prompt_tokens=stats.prompt_tokens or 0,
            completion_tokens=stats.completion_tokens or 0,
        )
    except Exception:  # noqa: BLE001 - an unpriced model has no known cost
        return None
    return prompt_cost + completion_cost


# What a person reads when a model call fails: the kind of failure in plain
# words, never a URL, a key, a host name or the provider's own text (which
# can carry all three). The details go to the worker's log for staff.
REASONS = {
    "unreachable": "Muse could not reach the model server. "
                   "Try again in a moment; if it keeps happening, tell whoever runs Muse.",
    "lost": "The connection to the model server was lost in the middle of the answer. Try again in a moment.",
    "timeout": "The model server did not answer in time. "
               "Try again in a moment; if it keeps happening, tell whoever runs Muse.",
    "key_refused": "The model server refused Muse's key. Tell whoever runs Muse.",
    "not_found": "The model was not found on the model server. Tell whoever runs Muse.",
    "rate_limited": "The model server is getting too many requests. Try again in a moment.",
    "too_long": "This conversation is too long for the model. Start a new chat.",
    "unknown_model": "Muse does not know how to reach this model. Tell whoever runs Muse.",
    "rejected": "The model server rejected the request. If it keeps happening, tell whoever runs Muse.",
    "server_error": "The model server had an internal error. Try again in a moment.",
    "failed": "The model call failed. Try again in a moment; if it keeps happening, tell whoever runs Muse.",
    "unexpected": "The model call failed unexpectedly. Try again; if it keeps happening, tell whoever runs Muse.",
}

_KINDS_BY_STATUS = {401: "key_refused", 403: "key_refused", 404: "not_found", 408: "timeout", 429: "rate_limited"}


def describe_error(exc: BaseException, call: ModelCall) -> str:
    """Turn a provider exception into one sentence a person can act on, and
    log what staff need to fix it (the sentence itself names no endpoint)."""
    kind = error_kind(exc)
    details = " ".join(str(exc).split())[:2000]  # one log line, however the provider wrapped it
    log.warning(
        "model call failed (%s): %s: %s [model=%s api_base=%s]",
        kind, type(exc).__name__, details, call.model, call.api_base or "(provider default)",
    )
    return REASONS[kind]


def error_kind(exc: BaseException) -> str:
    """Which of REASONS a provider exception is (litellm maps providers'
    errors to many types; a status code decides the ones it leaves generic)."""
    lib = _lib()
    message = str(exc)
    if "connection error" in message.lower():  # the HTTP client's words, not the server's
        return "lost" if type(exc).__name__ == "MidStreamFallbackError" else "unreachable"
    checks = (
        (lib.Timeout, "timeout"),
        ((lib.AuthenticationError, lib.PermissionDeniedError), "key_refused"),
        (lib.NotFoundError, "not_found"),
        (lib.RateLimitError, "rate_limited"),
        (lib.ContextWindowExceededError, "too_long"),
    )
    for types, kind in checks:
        if isinstance(exc, types):
            return kind
    if isinstance(exc, lib.BadRequestError):
        return "unknown_model" if "LLM Provider NOT provided" in message else "rejected"
    status = getattr(exc, "status_code", None)
    status = status if isinstance(status, int) else 0
    if status in _KINDS_BY_STATUS:
        return _KINDS_BY_STATUS[status]
    if isinstance(exc, (lib.ServiceUnavailableError, lib.InternalServerError)) or status >= 500:
        return "server_error"
    if 400 <= status < 500:
        return "rejected"
    return "failed" if isinstance(exc, (lib.APIError, lib.APIConnectionError)) else "unexpected"
