"""Fitting a call's messages to its model's context window: the oldest
turns go first, never the system prompt or the last message."""

from __future__ import annotations

import logging
from dataclasses import replace

from django.conf import settings

from museapp.llm import local
from museapp.llm.calls import ModelCall

log = logging.getLogger(__name__)

DEFAULT_WINDOW = 8192  # tokens, for a model litellm knows nothing about
CHARS_PER_TOKEN_AT_MOST = 8  # a bound for reading history by characters before counting tokens
PER_MESSAGE_TOKENS = 8  # what a chat format adds around each message, generously


def window(model: str, lib) -> int:
    """MUSE_CONTEXT_TOKENS, else what litellm knows of the model."""
    if settings.MUSE_CONTEXT_TOKENS:
        return settings.MUSE_CONTEXT_TOKENS
    try:
        return int(lib.get_model_info(model).get("max_input_tokens") or DEFAULT_WINDOW)
    except Exception:  # noqa: BLE001 - an unknown model (litellm raises several kinds)
        return DEFAULT_WINDOW


def history_chars(model: str, lib) -> int:
    """How much history text is worth reading for the model at most."""
    return window(model, lib) * CHARS_PER_TOKEN_AT_MOST


def fit(call: ModelCall, lib) -> ModelCall:
    """``call`` with the oldest turns dropped until it fits its window and
    still leaves room for the answer. The offline model fits its own."""
    if local.is_local(call.model) or len(call.messages) <= 2:
        return call
    budget = window(call.model, lib) - (call.max_tokens or 0)
    # A token covers at least one byte of UTF-8 (plus a few per message), so
    # a call with fewer bytes than the budget fits without counting, which
    # would cost time before the first token.
    if sum(len(str(m["content"]).encode()) + PER_MESSAGE_TOKENS for m in call.messages) <= budget:
        return call
    system = [m for m in call.messages[:1] if m["role"] == "system"]
    turns = call.messages[len(system):]
    sizes = [lib.token_counter(model=call.model, messages=[m]) for m in turns]  # once each, not per drop
    total = lib.token_counter(model=call.model, messages=system) + sum(sizes)
    while len(turns) > 1 and total > budget:
        total -= sizes.pop(0)
        turns = turns[1:]
    if len(turns) < len(call.messages) - len(system):
        log.info("context for %s trimmed to %d of %d turns", call.model, len(turns),
                 len(call.messages) - len(system))
    return replace(call, messages=system + turns)
