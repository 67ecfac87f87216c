"""A call's messages fitted to the model's window (litellm counts tokens):
oldest turns first, never the system prompt or the last message."""

from museapp.llm.adapter import _lib
from museapp.llm.calls import ModelCall
from museapp.llm.context import file_part, fit, image_part, wire


def a_call(turns: int, max_tokens: int = 100) -> ModelCall:
    messages = [{"role": "system", "content": "Be brief."}]
    for i in range(turns):
        messages.append({"role": "user" if i % 2 == 0 else "assistant", "content": f"turn {i} " + "word " * 50})
    return ModelCall(model="openai/fake-model", messages=messages, max_tokens=max_tokens)


def test_a_call_within_its_window_is_sent_whole(settings):
    settings.MUSE_CONTEXT_TOKENS = 100_000
    call = a_call(10)

    assert fit(call, _lib())[0].messages == call.messages


def test_the_oldest_turns_go_first_to_fit_the_window_and_the_answers_room(settings):
    settings.MUSE_CONTEXT_TOKENS = 1_000
    call = a_call(300, max_tokens=200)

    fitted = fit(call, _lib())[0].messages

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

    assert fit(call, _lib())[0].messages == [call.messages[0], call.messages[-1]]


def test_the_offline_model_fits_its_own_context(settings):
    settings.MUSE_CONTEXT_TOKENS = 10
    call = ModelCall(model="muse-local/smollm2-135m", messages=a_call(40).messages)

    assert fit(call, _lib())[0].messages == call.messages


def with_files(*files: dict, question: str = "What does it say?") -> ModelCall:
    return ModelCall(model="openai/fake-model", max_tokens=100, messages=[
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": [*files, {"type": "text", "text": question}]}])


def test_a_pdf_too_long_for_the_window_is_cut_at_a_page_and_says_so(settings):
    settings.MUSE_CONTEXT_TOKENS = 1_000
    pages = [f"Page {n}. " + "figures " * 40 + "\n\n" for n in range(1, 61)]
    ends = [sum(len(p) for p in pages[:n]) for n in range(1, 61)]
    call = with_files(file_part(name="report.pdf", text="".join(pages), page_ends=ends))

    fitted, notes = fit(call, _lib())

    [kept] = [p for p in fitted.messages[-1]["content"] if "muse_file" in p]
    kept_pages = kept["text"].count("Page ")
    assert 1 < kept_pages < 60
    assert kept["text"] == "".join(pages[:kept_pages]), "whole pages, from the first"
    assert notes == [f"read the first {kept_pages} pages of report.pdf"]
    assert fitted.messages[-1]["content"][-1] == {"type": "text", "text": "What does it say?"}, "the question whole"
    assert _lib().token_counter(model=call.model, messages=wire(fitted.messages)) <= 1_000 - 100


def test_a_long_text_file_is_cut_at_a_line(settings):
    settings.MUSE_CONTEXT_TOKENS = 2_000
    text = "".join(f"line {n}: all well\n" for n in range(1, 1_000_001))[:500_000]
    call = with_files(file_part(name="big.log", text=text))

    fitted, [note] = fit(call, _lib())

    [kept] = [p for p in fitted.messages[-1]["content"] if "muse_file" in p]
    assert kept["text"].startswith("line 1: all well\nline 2:") and kept["text"].endswith("all well")
    assert note == f"read the first {kept['text'].count(chr(10)) + 1:,} lines of big.log"
    assert _lib().token_counter(model=call.model, messages=wire(fitted.messages)) <= 2_000 - 100


def test_files_that_fit_are_sent_whole_with_their_names(settings):
    settings.MUSE_CONTEXT_TOKENS = 100_000
    call = with_files(file_part(name='a "quoted" name.txt', text="cardamom", note="only the first 5 pages were read"))

    fitted, notes = fit(call, _lib())

    assert notes == []
    assert wire(fitted.messages)[-1]["content"] == (
        "<file name=\"a 'quoted' name.txt\" note=\"only the first 5 pages were read\">\ncardamom\n</file>"
        "\n\nWhat does it say?")


def test_an_image_is_sent_as_an_image_part_without_muses_marks():
    call = with_files(image_part(name="cat.png", data_url="data:image/png;base64,AAAA"))

    [_, sent] = wire(call.messages)

    assert sent["content"] == [{"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
                               {"type": "text", "text": "What does it say?"}]
