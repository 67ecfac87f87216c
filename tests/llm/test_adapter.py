"""The litellm adapter against the fake model server, over real HTTP."""

import logging
import re

import pytest

from museapp.llm.adapter import REASONS, ModelCall, ModelError, StreamStats, stream_completion
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
    "status, kind",
    [
        (400, "rejected"),
        (401, "key_refused"),
        (403, "key_refused"),
        (404, "not_found"),
        (429, "rate_limited"),
        (500, "server_error"),
        (502, "server_error"),
        (503, "server_error"),
        (504, "timeout"),
    ],
)
async def test_a_provider_error_becomes_a_sentence_a_person_can_act_on(llm, status, kind):
    llm.script("fail", Reply(status=status))

    received, error = await failure_of(call_to(llm, "fail now"))

    assert received == []
    assert error.reason == REASONS[kind]
    assert str(error) == error.reason


async def test_an_unreachable_server_says_so_without_saying_where():
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
        "Muse could not reach the model server. "
        "Try again in a moment; if it keeps happening, tell whoever runs Muse."
    )


async def test_a_connection_dropped_mid_stream_keeps_what_arrived_then_fails(llm):
    llm.script("fragile", Reply(text="one two three four five six", drop_after=3))

    received, error = await failure_of(call_to(llm, "fragile answer"))

    assert received == ["one", " two", " three"]
    assert error.reason == REASONS["lost"]
    assert "lost in the middle of the answer" in error.reason


async def test_a_model_that_does_not_answer_in_time_times_out(llm):
    llm.script("slow", Reply(text="too late", first_token_delay=3))

    received, error = await failure_of(call_to(llm, "slow answer", timeout=0.5))

    assert received == []
    assert error.reason == REASONS["timeout"]


async def test_a_conversation_past_the_models_context_window_says_to_start_a_new_chat(llm):
    llm.script("long", Reply(status=400, error_message=(
        "This model's maximum context length is 8192 tokens. However, your messages resulted in 9000 tokens.")))

    received, error = await failure_of(call_to(llm, "long story"))

    assert error.reason == "This conversation is too long for the model. Start a new chat."


async def test_an_unknown_provider_says_muse_cannot_reach_the_model(llm):
    received, error = await failure_of(call_to(llm, "who?", model="no-such-provider-model"))

    assert received == []
    assert error.reason == REASONS["unknown_model"]
    assert llm.requests == [], "nothing was sent anywhere"


async def test_a_server_error_that_mentions_connecting_is_still_a_server_error(llm):
    llm.script("proxy", Reply(status=502, error_message="upstream connect error or disconnect/reset"))

    received, error = await failure_of(call_to(llm, "proxy trouble"))

    assert error.reason == REASONS["server_error"]


LEAKY_DETAIL = "gateway gw-7.internal.example.com said: key sk-provider-leak-4242 is over quota at https://gw-7/v1"


@pytest.mark.parametrize("status", [400, 401, 403, 404, 413, 422, 429, 500, 502, 503])
async def test_no_reason_shows_the_endpoint_the_key_or_the_providers_own_words(llm, status):
    llm.script("leak", Reply(status=status, error_message=LEAKY_DETAIL))
    call = call_to(llm, "leak please", api_key="sk-muse-own-key-1234")

    _, error = await failure_of(call)

    assert error.reason in REASONS.values()
    for secret in (llm.url, "127.0.0.1", str(llm.port), "sk-muse-own-key-1234",
                   "gw-7", "internal.example.com", "sk-provider-leak", "quota", "OpenAIException"):
        assert secret not in error.reason


async def test_no_reason_names_an_address_a_setting_or_a_model_string():
    for reason in REASONS.values():
        assert not re.search(r"https?:|://|MUSE_|_KEY|\d+\.\d+\.\d+|openai/|[{}<>]", reason), reason


async def test_the_worker_logs_what_staff_need_to_fix_it(llm, caplog):
    llm.script("leak", Reply(status=401, error_message=LEAKY_DETAIL))
    call = call_to(llm, "leak please", api_key="sk-muse-own-key-1234")

    with caplog.at_level(logging.WARNING, logger="museapp.llm.adapter"):
        await failure_of(call)

    [record] = [r for r in caplog.records if r.name == "museapp.llm.adapter"]
    logged = record.getMessage()
    assert record.levelno == logging.WARNING
    for detail in ("AuthenticationError", LEAKY_DETAIL, "openai/fake-model", llm.url):
        assert detail in logged
    assert "sk-muse-own-key-1234" not in logged, "Muse's own key stays out of the log"
