"""A call's messages fitted to the model's window (litellm counts tokens):
oldest turns first, never the system prompt or the last message."""

from museapp.llm.adapter import _lib
from museapp.llm.calls import ModelCall
from museapp.llm.context import fit


def a_call(turns: int, max_tokens: int = 100) -> ModelCall:
    messages = [{"role": "system", "content": "Be brief."}]
    for i in range(turns):
        messages.append({"role": "user" if i % 2 == 0 else "assistant", "content": f"turn {i} " + "word " * 50})
    return ModelCall(model="openai/fake-model", messages=messages, max_tokens=max_tokens)


def test_a_call_within_its_window_is_sent_whole(settings):
    settings.MUSE_CONTEXT_TOKENS = 100_000
    call = a_call(10)

    assert fit(call, _lib()).messages == call.messages


def test_the_oldest_turns_go_first_to_fit_the_window_and_the_answers_room(settings):
    settings.MUSE_CONTEXT_TOKENS = 1_000
    call = a_call(300, max_tokens=200)

    fitted = fit(call, _lib()).messages

    assert fitted[0] == {"role": "system", "content": "Be brief."}
    assert fitted[-1] == call.messages[-1], "the question is always sent"
    assert 2 < len(fitted) < 20
    assert fitted[1:] == call.messages[-(len(fitted) - 1):], "a run of the newest turns, in order"
    assert _lib().token_counter(model=call.model, messages=fitted) <= 1_000 - 200 + 10


def test_a_last_message_alone_too_long_is_still_sent(settings):
    settings.MUSE_CONTEXT_TOKENS = 50
    call = ModelCall(model="openai/fake-model", messages=[
        {"role": "system", "content": "Be brief."}, {"role": "user", "content": "old"},
        {"role": "user", "content": "word " * 500}])

    assert fit(call, _lib()).messages == [call.messages[0], call.messages[-1]]


def test_the_offline_model_fits_its_own_context(settings):
    settings.MUSE_CONTEXT_TOKENS = 10
    call = ModelCall(model="muse-local/smollm2-135m", messages=a_call(40).messages)

    assert fit(call, _lib()).messages == call.messages
