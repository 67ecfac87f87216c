"""The litellm adapter against the fake model server, over real HTTP."""

import pytest

from museapp.llm.adapter import ModelCall, ModelError, StreamStats, stream_completion
from tests.fakellm import Reply

pytestmark = pytest.mark.asyncio


def call_to(llm, text: str, *, model: str = "openai/fake-model", **overrides) -> ModelCall:
    options = {"api_base": llm.url, "api_key": "test-key", "timeout": 20.0, "retries": 0}
    options.update(overrides)
    return ModelCall(model=model, messages=[{"role": "user", "content": text}], **options)


async def collect(call: ModelCall, stats: StreamStats) -> list[str]:
    return [delta async for delta in stream_completion(call, stats)]


async def failure_of(call: ModelCall) -> tuple[list[str], ModelError]:
    """The deltas that arrived before the call failed, and the failure."""
    received: list[str] = []
    with pytest.raises(ModelError) as failure:
        async for delta in stream_completion(call, StreamStats()):
            received.append(delta)
    return received, failure.value


async def test_it_streams_the_deltas_in_order_and_records_usage_and_timings(llm):
    llm.script("poem", Reply(text="Roses are red, violets are blue.", token_delay=0.01))
    stats = StreamStats()

    deltas = await collect(call_to(llm, "a poem please"), stats)

    assert deltas == ["Roses", " are", " red,", " violets", " are", " blue."]
    assert stats.completion_tokens == 6
    assert stats.prompt_tokens == 3  # the fake counts words: "a poem please"
    assert stats.finish_reason == "stop"
    assert stats.ttft_ms is not None and stats.ttft_ms > 0
    assert stats.total_ms >= stats.ttft_ms


async def test_it_sends_the_messages_and_options_to_the_provider(llm):
    call = call_to(llm, "hello there", temperature=0.3, max_tokens=50)

    await collect(call, StreamStats())

    request = llm.requests_matching("hello there")[0]
    assert request["messages"] == [{"role": "user", "content": "hello there"}]
    assert request["model"] == "fake-model"
    assert request["temperature"] == 0.3
    assert request["max_tokens"] == 50
    assert request["stream"] is True


async def test_a_priced_model_gets_a_cost_from_the_price_map(llm):
    stats = StreamStats()

    await collect(call_to(llm, "price me", model="openai/gpt-4o-mini"), stats)

    assert stats.cost is not None and stats.cost > 0


async def test_an_unpriced_model_has_no_cost(llm):
    stats = StreamStats()

    await collect(call_to(llm, "price me", model="openai/fake-model"), stats)

    assert stats.completion_tokens == 3  # "Echo:", " price", " me"
    assert stats.cost is None


@pytest.mark.parametrize(
    "status, sentence",
    [
        (500, "The provider had an internal error"),
        (401, "The provider refused the API key for openai/fake-model"),
        (404, "The model openai/fake-model was not found at http://127.0.0.1"),
        (429, "The provider is rate-limiting openai/fake-model"),
    ],
)
async def test_a_provider_error_becomes_a_sentence_a_person_can_act_on(llm, status, sentence):
    llm.script("fail", Reply(status=status))

    received, error = await failure_of(call_to(llm, "fail now"))

    assert received == []
    assert error.reason.startswith(sentence)
    assert str(error) == error.reason


async def test_an_unreachable_server_says_where_it_tried_to_connect():
    call = ModelCall(
        model="openai/fake-model",
        messages=[{"role": "user", "content": "anyone?"}],
        api_base="http://127.0.0.1:9/v1",
        api_key="test-key",
        timeout=5,
    )

    received, error = await failure_of(call)

    assert received == []
    assert error.reason == (
        "Could not connect to the model at http://127.0.0.1:9/v1. "
        "Is the server running? Check MUSE_API_BASE."
    )


async def test_a_connection_dropped_mid_stream_keeps_what_arrived_then_fails(llm):
    llm.script("fragile", Reply(text="one two three four five six", drop_after=3))

    received, error = await failure_of(call_to(llm, "fragile answer"))

    assert received == ["one", " two", " three"]
    assert "lost in the middle of the answer" in error.reason


async def test_a_model_that_does_not_answer_in_time_times_out(llm):
    llm.script("slow", Reply(text="too late", first_token_delay=3))

    received, error = await failure_of(call_to(llm, "slow answer", timeout=0.5))

    assert received == []
    assert error.reason == "The model openai/fake-model did not answer in time (0.5 s)."


async def test_an_unknown_provider_says_how_to_name_the_model(llm):
    received, error = await failure_of(call_to(llm, "who?", model="no-such-provider-model"))

    assert received == []
    assert "Muse does not know how to reach the model 'no-such-provider-model'" in error.reason
    assert llm.requests == [], "nothing was sent anywhere"


async def test_a_server_error_that_mentions_connecting_is_still_a_server_error(llm):
    llm.script("proxy", Reply(status=502, error_message="upstream connect error or disconnect/reset"))

    received, error = await failure_of(call_to(llm, "proxy trouble"))

    assert not error.reason.startswith("Could not connect")
