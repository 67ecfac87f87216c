"""The one place that talks to litellm.

Everything else in Muse asks this module for a stream of text deltas and
reads the usage, cost and timings it records. litellm is imported lazily:
the import takes seconds, and the web process never needs it.
"""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator
from typing import Any

from museapp.llm import config, local
from museapp.llm.calls import ModelCall, StreamStats

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

__all__ = ["ModelCall", "ModelError", "StreamStats", "stream_completion", "warm_up"]


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
    except Exception:  # noqa: BLE001 - warming must never stop a worker
        pass


async def stream_completion(call: ModelCall, stats: StreamStats) -> AsyncIterator[str]:
    """Yield the answer's text deltas as they arrive; fill ``stats``.

    Raises ModelError with a human-readable reason on any provider failure,
    before or during the stream. What was yielded before a failure stays
    valid: the caller keeps it and marks the answer incomplete.
    """
    call = config.with_endpoint(call)
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
        "messages": call.messages,
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
    return kwargs


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
    delta = (choice.delta.content if choice.delta else None) or ""
    return delta.replace("\x00", "")  # PostgreSQL text cannot hold it; no one can see it


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


def describe_error(exc: BaseException, call: ModelCall) -> str:
    """Turn a provider exception into one sentence a person can act on."""
    lib = _lib()
    where = f" at {call.api_base}" if call.api_base else ""
    name = type(exc).__name__
    detail = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else name
    if "connection error" in detail.lower():  # the HTTP client's words, not the server's
        if type(exc).__name__ == "MidStreamFallbackError":
            return f"The connection to the model{where} was lost in the middle of the answer."
        return f"Could not connect to the model{where}. Is the server running? Check MUSE_API_BASE."
    if isinstance(exc, lib.Timeout):
        return f"The model {call.model} did not answer in time ({call.timeout:g} s)."
    if isinstance(exc, lib.AuthenticationError):
        return f"The provider refused the API key for {call.model}. Check MUSE_API_KEY or the provider's key variable."
    if isinstance(exc, lib.NotFoundError):
        return f"The model {call.model} was not found{where}. Check MUSE_MODEL."
    if isinstance(exc, lib.RateLimitError):
        return f"The provider is rate-limiting {call.model}. Try again in a moment."
    if isinstance(exc, lib.ContextWindowExceededError):
        return "This conversation is too long for the model. Start a new chat."
    if isinstance(exc, lib.BadRequestError):
        if "LLM Provider NOT provided" in detail or "provider" in detail.lower() and "not" in detail.lower():
            return f"Muse does not know how to reach the model '{call.model}'. Set MUSE_MODEL to a litellm model string such as openai/gpt-4o-mini."
        return f"The provider rejected the request: {detail}"
    if isinstance(exc, (lib.ServiceUnavailableError, lib.InternalServerError)):
        return f"The provider had an internal error ({name}). Try again."
    if isinstance(exc, lib.APIError) or isinstance(exc, lib.APIConnectionError):
        return f"The model call failed: {detail}"
    return f"The model call failed unexpectedly ({name}): {detail}"
