"""What one model call needs, and what it measured.

A ModelCall travels inside Celery task arguments, so it holds no secret:
``as_dict`` leaves the endpoint (``api_base``, ``api_key``) out, and the
worker's adapter fills it in from its own settings by model name
(``config.with_endpoint``). Only calls made in-process set it directly.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ModelCall:
    """Everything one model call needs, so a task can start streaming without
    reading the database first."""

    model: str
    messages: list[dict]  # content: text, or parts (attached files: museapp/llm/context.py)
    api_base: str | None = None
    api_key: str | None = field(default=None, repr=False)  # never in a log line
    temperature: float | None = None
    max_tokens: int | None = None
    timeout: float = 120.0
    retries: int = 0

    def as_dict(self) -> dict[str, Any]:
        """For a task's arguments: everything but the endpoint."""
        return {
            "model": self.model,
            "messages": self.messages,
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
            "timeout": self.timeout,
            "retries": self.retries,
        }


CONFIDENCE_TAIL = 32


@dataclass
class StreamStats:
    """Filled in while a stream runs; complete once it has ended."""

    started: float = field(default_factory=time.monotonic)
    first_token_at: float | None = None
    ended_at: float | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cost: float | None = None
    finish_reason: str | None = None
    context_note: str = ""  # what was cut of attached files to fit the window, said
    logprobs: list[float] = field(default_factory=list)  # each token's, where the model gives them

    @property
    def confidence(self) -> float | None:
        """The mean log-probability of the last ``CONFIDENCE_TAIL`` tokens
        (the tail, where the answer is given: DeepConf's tail confidence);
        None when the model gave none."""
        tail = self.logprobs[-CONFIDENCE_TAIL:]
        return round(sum(tail) / len(tail), 4) if tail else None

    @property
    def ttft_ms(self) -> float | None:
        if self.first_token_at is None:
            return None
        return (self.first_token_at - self.started) * 1000

    @property
    def total_ms(self) -> float | None:
        if self.ended_at is None:
            return None
        return (self.ended_at - self.started) * 1000
