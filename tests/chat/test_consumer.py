"""The chat socket, end to end: a real consumer, a real Celery worker process,
real Redis, and litellm talking HTTP to the fake model."""

import asyncio
import json
import time

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

from museapp.asgi import application
from museapp.streams.names import Stream, stop_key
from museapp.chat.models import Conversation, Message
from museapp.ops import redis_client
from tests.fakellm import Reply
from tests.sockets import (ORIGIN, Frames, answer_ended, answer_of, close_code, knock, messages_of, open_chat, send,
                           shown_in)

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.asyncio,
    pytest.mark.usefixtures("celery_worker_process"),
]


async def wait_for_status(conversation, status, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        answer = await answer_of(conversation)
        if answer and answer.status == status:
            return answer
        await asyncio.sleep(0.05)
    raise AssertionError(f"answer never reached {status}: {answer and answer.status}")


async def test_an_answer_streams_in_frames_and_is_saved_with_usage_and_timings(user, conversation, llm):
    llm.script("capital of France", Reply(text="The capital of France is Paris.", token_delay=0.02))
    socket = await open_chat(user, conversation.pk)
    frames = Frames(socket)
    await send(socket, action="send", message="What is the capital of France?", client_id="c1")

    await frames.contains('data-author="user"')
    await frames.contains("hx-swap-oob=\"beforeend\">The")
    text = await frames.until(lambda t: 'data-status="done"' in t)
    assert "Paris" in text
    assert text.count('-tail" hx-swap-oob="beforeend"') >= 2, "tokens arrive in several frames"

    user_message, answer = await messages_of(conversation)
    assert user_message.content == "What is the capital of France?"
    assert answer.content == "The capital of France is Paris."
    assert answer.status == "done"
    assert answer.completion_tokens == 6  # "The", " capital", " of", …
    assert answer.prompt_tokens > 0
    assert answer.ttft_ms is not None and answer.total_ms >= answer.ttft_ms
    assert answer.model == "openai/fake-model"
    await socket.disconnect()


async def test_the_first_message_titles_the_conversation_and_the_sidebar(user, conversation, llm):
    socket = await open_chat(user, conversation.pk)
    frames = Frames(socket)
    await send(socket, message="Plan a picnic for six people")
    text = await frames.contains(f'id="conv-{conversation.pk}"')
    assert "Plan a picnic for six people" in text
    await frames.until(lambda t: 'data-status="done"' in t)
    await sync_to_async(conversation.refresh_from_db)()
    assert conversation.title == "Plan a picnic for six people"
    await socket.disconnect()


async def test_earlier_turns_are_sent_to_the_model_as_context(user, conversation, llm):
    socket = await open_chat(user, conversation.pk)
    frames = Frames(socket)
    await send(socket, message="My name is Ada.")
    await frames.contains("My name is Ada.")  # the turn: its rows are saved
    await frames.until(answer_ended((await answer_of(conversation)).pk))
    await send(socket, message="What is my name?")
    await frames.contains("What is my name?")
    await frames.until(answer_ended((await answer_of(conversation)).pk))

    request = llm.requests_matching("What is my name?")[0]
    roles = [(m["role"], m["content"]) for m in request["messages"]]
    assert roles[0][0] == "system"
    assert roles[1:] == [
        ("user", "My name is Ada."),
        ("assistant", "Echo: My name is Ada."),
        ("user", "What is my name?"),
    ]
    await socket.disconnect()


async def test_stop_ends_the_answer_within_a_second_and_keeps_the_partial_text(user, conversation, llm):
    llm.script("long story", Reply(tokens=500, token_delay=0.02))
    socket = await open_chat(user, conversation.pk)
    frames = Frames(socket)
    await send(socket, message="Tell me a long story")
    await frames.contains("tok3")
    answer = await answer_of(conversation)

    stopped_at = time.monotonic()
    await send(socket, action="stop", message_id=answer.pk)
    await frames.until(lambda t: 'data-status="stopped"' in t, timeout=5)
    assert time.monotonic() - stopped_at < 1.0

    answer = await wait_for_status(conversation, "stopped")
    assert answer.content.startswith("tok0 tok1 tok2 tok3")
    assert "tok499" not in answer.content
    await socket.disconnect()


async def test_stopping_twenty_answers_at_once_stops_every_one_within_a_second(user, llm, settings):
    """Many streams on one worker, all stopped together: none may run on."""
    settings.MUSE_SOCKETS_PER_PERSON = settings.MUSE_MAX_RUNNING_ANSWERS = 0  # one person plays twenty here
    llm.script("stop us all", Reply(tokens=2000, token_delay=0.01))
    conversations = [await sync_to_async(Conversation.objects.create)(user=user) for _ in range(20)]
    sockets = [await open_chat(user, c.pk) for c in conversations]
    frames = [Frames(socket) for socket in sockets]
    for socket in sockets:
        await send(socket, message="stop us all")
    await asyncio.gather(*[f.contains("tok20") for f in frames])
    answers = [await answer_of(c) for c in conversations]

    stopped_at = time.monotonic()
    await asyncio.gather(*[send(socket, action="stop", message_id=answer.pk)
                           for socket, answer in zip(sockets, answers)])
    await asyncio.gather(*[f.until(lambda t: 'data-status="stopped"' in t, timeout=10) for f in frames])
    assert time.monotonic() - stopped_at < 1.5

    for conversation in conversations:
        answer = await answer_of(conversation)
        assert answer.status == "stopped" and "tok1999" not in answer.content
    for socket in sockets:
        await socket.disconnect()


async def test_a_stop_whose_pubsub_message_was_lost_still_stops_the_answer_by_its_key(user, conversation, llm):
    """Pub/sub keeps nothing for a worker that was reconnecting: only the key
    is left, as if the message had been lost on the way."""
    llm.script("lost stop", Reply(tokens=500, token_delay=0.02))
    socket = await open_chat(user, conversation.pk)
    frames = Frames(socket)
    await send(socket, message="lost stop")
    await frames.contains("tok3")
    answer = await answer_of(conversation)

    stopped_at = time.monotonic()
    stream = Stream.answer(answer.pk)
    await redis_client.client(stream.name, "stop").set(stop_key(stream), "1")

    await frames.until(lambda t: 'data-status="stopped"' in t, timeout=5)
    assert time.monotonic() - stopped_at < 1.5
    await socket.disconnect()


async def test_stop_works_before_the_first_token_arrives(user, conversation, llm):
    llm.script("slow start", Reply(text="never shown", first_token_delay=5))
    socket = await open_chat(user, conversation.pk)
    frames = Frames(socket)
    await send(socket, message="slow start please")
    await frames.contains('data-status="streaming"')
    answer = await answer_of(conversation)
    deadline = time.monotonic() + 10
    while not llm.requests_matching("slow start please"):  # the worker is waiting on the model
        assert time.monotonic() < deadline, "the worker never called the model"
        await asyncio.sleep(0.02)
    stopped_at = time.monotonic()
    await send(socket, action="stop", message_id=answer.pk)
    await frames.until(lambda t: 'data-status="stopped"' in t, timeout=5)
    assert time.monotonic() - stopped_at < 1.0
    assert (await answer_of(conversation)).content == ""
    await socket.disconnect()


async def test_a_provider_error_ends_the_answer_with_a_reason_and_a_retry_button(user, conversation, llm):
    llm.script("break please", Reply(status=500), times=1)
    socket = await open_chat(user, conversation.pk)
    frames = Frames(socket)
    await send(socket, message="break please")
    text = await frames.until(lambda t: 'data-status="error"' in t)
    assert "internal error" in text
    assert ">Retry</button>" in text
    user_message, answer = await messages_of(conversation)
    assert user_message.content == "break please", "what the person typed is kept"
    assert answer.status == "error"

    await send(socket, action="retry", message_id=answer.pk)
    text = await frames.until(lambda t: 'data-status="done"' in t)
    answer = await answer_of(conversation)
    assert answer.status == "done"
    assert answer.content == "Echo: break please"
    await socket.disconnect()


async def test_a_connection_dropped_mid_stream_keeps_what_arrived(user, conversation, llm):
    llm.script("fragile", Reply(text="one two three four five six", drop_after=3))
    socket = await open_chat(user, conversation.pk)
    frames = Frames(socket)
    await send(socket, message="fragile answer")
    text = await frames.until(lambda t: 'data-status="error"' in t)
    assert "lost in the middle of the answer" in text
    answer = await answer_of(conversation)
    assert answer.content == "one two three"
    assert answer.status == "error"
    await socket.disconnect()


async def test_no_configured_model_keeps_the_message_and_explains(user, conversation, llm, settings):
    settings.MUSE_MODELS = settings.MUSE_MODEL = ""
    settings.MUSE_OFFLINE_MODEL = False
    socket = await open_chat(user, conversation.pk)
    frames = Frames(socket)
    await send(socket, message="hello?")
    text = await frames.until(lambda t: 'data-status="error"' in t)
    assert "No language model is configured" in text
    user_message, answer = await messages_of(conversation)
    assert user_message.content == "hello?"
    await socket.disconnect()


@pytest.mark.parametrize(
    "payload, reason",
    [
        ({"message": ""}, "empty message"),
        ({"message": "   \n\t "}, "empty message"),
        ({"message": "x" * 20_001}, "the limit is 20,000"),
        ({"message": ["not", "text"]}, "must be text"),
        ({"message": "a\x00b"}, "null character"),  # PostgreSQL cannot store it
        ({"action": "dance", "message": "hi"}, "Unknown action"),
        ({"action": "stop", "message_id": "abc"}, "not in this conversation"),
        ({"action": "stop", "message_id": 10**30}, "not in this conversation"),
    ],
)
async def test_bad_input_gets_a_clear_error_frame_and_saves_nothing(user, conversation, llm, payload, reason):
    socket = await open_chat(user, conversation.pk)
    frames = Frames(socket)
    await send(socket, client_id="p1", **payload)
    text = await frames.contains(reason)
    assert 'id="composer-error"' in text
    assert await messages_of(conversation) == []
    await socket.disconnect()


async def test_a_refused_message_gives_back_what_was_typed(user, conversation, llm):
    socket = await open_chat(user, conversation.pk)
    frames = Frames(socket)
    long_text = "<b>draft</b> " * 2000
    await send(socket, message=long_text, client_id="keep1")
    text = await frames.contains("the limit is 20,000")
    assert 'id="pending-keep1" hx-swap-oob="delete"' in text
    assert "&lt;b&gt;draft&lt;/b&gt;" in text and "<b>draft</b>" not in text
    await socket.disconnect()


@pytest.mark.parametrize("length", [25_000, 200_000])
async def test_a_message_over_the_limit_leaves_no_bubble_and_comes_back_whole_whatever_its_size(
        user, conversation, llm, length):
    socket = await open_chat(user, conversation.pk)
    frames = Frames(socket)
    long_text = ("word " * length)[:length - 3] + "END"  # 200,000 is past the frame limit, under the byte limit
    await send(socket, message=long_text, client_id="long1")
    text = await frames.contains("the limit is 20,000")

    assert f"That message is {length:,} characters long; the limit is 20,000." in text
    assert 'id="pending-long1" hx-swap-oob="delete"' in text
    assert 'id="message-input"' in text and long_text in text, "the whole text goes back into the box"
    assert await messages_of(conversation) == []
    assert llm.requests_matching("END") == []
    await socket.disconnect()


async def test_a_frame_too_large_to_read_drops_its_bubble_and_says_the_limit(user, conversation, llm, settings):
    """Behind a server without the byte limit (uvicorn's --ws-max-size, as
    this test's in-process socket is), a frame over it is refused unread."""
    socket = await open_chat(user, conversation.pk)
    frames = Frames(socket)
    await send(socket, message="x" * (settings.MUSE_WS_MAX_BYTES + 1), client_id="huge1")
    text = await frames.contains("characters long")

    assert "That message is more than 20,000 characters long; the limit is 20,000." in text
    assert 'id="pending-huge1" hx-swap-oob="delete"' in text
    assert await messages_of(conversation) == []
    await send(socket, message="still there?")
    await frames.until(lambda t: 'data-status="done"' in t)
    await socket.disconnect()


@pytest.mark.parametrize("raw", ["{not json", "[1, 2]", '"just a string"', "null"])
async def test_malformed_frames_get_an_error_and_the_socket_keeps_working(user, conversation, llm, raw):
    socket = await open_chat(user, conversation.pk)
    frames = Frames(socket)
    await socket.send_to(text_data=raw)
    await frames.contains("could not be read")
    await send(socket, message="still there?")
    await frames.until(lambda t: 'data-status="done"' in t)
    await socket.disconnect()


async def test_json_nested_too_deeply_to_read_gets_an_error_and_the_socket_keeps_working(user, conversation, llm):
    socket = await open_chat(user, conversation.pk)
    frames = Frames(socket)
    await socket.send_to(text_data="[" * 5000 + "]" * 5000)  # 10 kB, found by tests/chat/test_fuzz.py
    await frames.contains("nested too deeply")
    await send(socket, message="still there?")
    await frames.until(lambda t: 'data-status="done"' in t)
    await socket.disconnect()


async def test_sending_while_an_answer_streams_is_refused(user, conversation, llm):
    llm.script("first one", Reply(tokens=100, token_delay=0.02))
    socket = await open_chat(user, conversation.pk)
    frames = Frames(socket)
    await send(socket, message="first one")
    await frames.contains("tok1")
    await send(socket, message="second one")
    await frames.contains("still answering")
    assert len(await messages_of(conversation)) == 2
    answer = await answer_of(conversation)
    await send(socket, action="stop", message_id=answer.pk)
    await wait_for_status(conversation, "stopped")
    await socket.disconnect()


async def test_someone_elses_conversation_is_closed_with_4404(user, other_user, conversation):
    socket = await open_chat(other_user, conversation.pk)
    assert await close_code(socket) == 4404


async def test_a_binary_frame_is_refused_as_unreadable_and_the_socket_keeps_working(user, conversation, llm):
    socket = await open_chat(user, conversation.pk)
    frames = Frames(socket)
    await socket.send_to(bytes_data=b"\x00\x01binary")
    await frames.contains("Muse reads text frames only")
    await send(socket, message="still there?")
    await frames.until(lambda t: 'data-status="done"' in t)
    await socket.disconnect()


async def test_a_null_character_in_the_models_output_is_dropped_not_a_failed_save(user, conversation, llm):
    llm.script("null please", Reply(text="before\x00after"))
    socket = await open_chat(user, conversation.pk)
    frames = Frames(socket)
    await send(socket, message="null please")
    await frames.until(lambda t: 'data-status="done"' in t)
    assert (await answer_of(conversation)).content == "beforeafter"
    await socket.disconnect()


@pytest.mark.parametrize("path_id", ["999999", "abc", "-1", "1" * 40, "1_0"])
async def test_unknown_conversation_ids_are_closed_with_4404(user, path_id):
    socket = await open_chat(user, path_id)
    assert await close_code(socket) == 4404


@pytest.mark.parametrize("path", ["/ws/chat//", "/ws/chat/1/extra/", "/ws/", "/elsewhere"])
async def test_a_path_no_route_matches_is_closed_with_4404_not_a_server_error(path):
    socket = WebsocketCommunicator(application, path, headers=[(b"origin", ORIGIN), (b"host", b"127.0.0.1:8000")])
    connected, _ = await socket.connect(timeout=5)
    assert connected
    assert await close_code(socket) == 4404


async def test_an_anonymous_socket_is_closed_with_4401(conversation):
    socket = await open_chat(None, conversation.pk)
    assert await close_code(socket) == 4401


async def test_a_foreign_origin_is_refused(user, conversation):
    _socket, connected = await knock(user, conversation.pk, origin=b"https://evil.example")
    assert not connected


async def test_a_foreign_message_id_cannot_be_stopped_or_retried(user, other_user, conversation, llm):
    theirs = await sync_to_async(Conversation.objects.create)(user=other_user)
    their_answer = await sync_to_async(Message.objects.create)(
        conversation=theirs, author="assistant", status="error", error="x"
    )
    socket = await open_chat(user, conversation.pk)
    frames = Frames(socket)
    await send(socket, action="retry", message_id=their_answer.pk)
    await frames.contains("not in this conversation")
    await send(socket, action="stop", message_id=their_answer.pk)
    await Frames(socket).contains("not in this conversation")  # the stop's own refusal, not the retry's
    await sync_to_async(their_answer.refresh_from_db)()
    assert their_answer.status == "error"
    await socket.disconnect()


async def test_garbage_from_one_user_does_not_disturb_another_users_stream(user, other_user, llm):
    llm.script("steady", Reply(tokens=40, token_delay=0.01))
    mine = await sync_to_async(Conversation.objects.create)(user=user)
    theirs = await sync_to_async(Conversation.objects.create)(user=other_user)
    good = await open_chat(user, mine.pk)
    bad = await open_chat(other_user, theirs.pk)
    good_frames = Frames(good)
    await send(good, message="steady stream")
    for raw in ["{", "[]", json.dumps({"action": "nope"}), json.dumps({"message": ""}), "x" * 200_000]:
        await bad.send_to(text_data=raw)
    text = await good_frames.until(lambda t: 'data-status="done"' in t)
    assert "tok39" in text
    await good.disconnect()
    await bad.disconnect()


async def test_a_second_tab_sees_the_turn_and_the_stream(user, conversation, llm):
    llm.script("both tabs", Reply(text="seen by both tabs " * 10, token_delay=0.03))
    first = await open_chat(user, conversation.pk)
    second = await open_chat(user, conversation.pk)
    first_frames, second_frames = Frames(first), Frames(second)
    await send(first, message="both tabs please")
    await first_frames.until(lambda t: 'data-status="done"' in t)
    text = await second_frames.until(lambda t: 'data-status="done"' in t and "-body" in t)
    assert "both tabs please" in text
    assert 'data-status="streaming"' in text, "the second tab watches the answer stream"
    assert 'hx-swap-oob="beforeend"> by' in text
    await first.disconnect()
    await second.disconnect()


async def test_a_page_that_reconnects_mid_answer_catches_up_with_nothing_lost_or_doubled(user, conversation, llm):
    llm.script("reconnect", Reply(tokens=120, token_delay=0.01))
    socket = await open_chat(user, conversation.pk)
    frames = Frames(socket)
    await send(socket, message="reconnect test")
    await frames.contains("tok20")
    answer = await answer_of(conversation)

    reloaded = await open_chat(user, conversation.pk)  # a reload mid-answer
    reloaded_frames = Frames(reloaded)
    await reloaded_frames.contains(f'id="msg-{answer.pk}-body"><p>tok0')
    await asyncio.sleep(0.3)
    done = await wait_for_status(conversation, "done")
    await reloaded_frames.until(lambda t: 'data-status="done"' in t)

    shown = shown_in(reloaded_frames.text.split('data-status="done"')[0], f"msg-{answer.pk}")
    assert shown == done.content
    assert shown.count("tok0 ") == 1
    await socket.disconnect()
    await reloaded.disconnect()


async def test_the_conversations_chosen_model_writes_the_answer(user, llm):
    conversation = await sync_to_async(Conversation.objects.create)(user=user, model="openai/fake-model-2")
    socket = await open_chat(user, conversation.pk)
    frames = Frames(socket)
    await send(socket, message="which model are you?")
    text = await frames.until(lambda t: 'data-status="done"' in t)

    assert llm.requests_matching("which model are you?")[0]["model"] == "fake-model-2"
    assert (await answer_of(conversation)).model == "openai/fake-model-2"
    assert "Fake model two" in text
    await socket.disconnect()


async def test_the_offline_model_answers_through_the_worker(user, settings):
    from museapp.llm import local

    settings.MUSE_MAX_TOKENS = 24
    conversation = await sync_to_async(Conversation.objects.create)(user=user, model=local.MODEL)
    socket = await open_chat(user, conversation.pk)
    frames = Frames(socket)
    await send(socket, message="Name a colour.")
    await frames.contains('-tail" hx-swap-oob="beforeend">', timeout=60)
    await frames.until(lambda t: 'data-status="done"' in t, timeout=60)

    answer = await answer_of(conversation)
    assert answer.status == "done"
    assert answer.content.strip()
    assert 0 < answer.completion_tokens <= 24
    assert answer.prompt_tokens > 0
    await socket.disconnect()
