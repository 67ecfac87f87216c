"""Per-person limits on answers and contemplating runs, counted in Redis from
the chat socket: a refused message is given back and saves nothing."""

import asyncio
import time

import pytest
from asgiref.sync import sync_to_async
from django.core.exceptions import ImproperlyConfigured

from museapp.chat.models import Conversation, Message
from museapp.turns import limits
from museapp.ops.ratelimit import Rate, parse_rate
from tests.fakellm import Reply
from tests.sockets import Frames, messages_of, open_chat, send



def socket_test(test):
    """A real consumer, a real worker process and real Redis."""
    for mark in (pytest.mark.django_db(transaction=True), pytest.mark.asyncio,
                 pytest.mark.usefixtures("celery_worker_process")):
        test = mark(test)
    return test


@sync_to_async
def finished_answers(conversation) -> int:
    return Message.objects.filter(conversation=conversation, author="assistant", status="done").count()


async def answered(conversation, count: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while await finished_answers(conversation) < count:
        assert time.monotonic() < deadline, f"fewer than {count} answers finished"
        await asyncio.sleep(0.05)


# --- the format ---------------------------------------------------------------


@pytest.mark.parametrize("text, rate", [
    ("30/min", Rate(30, 60)),
    ("30/hour", Rate(30, 3600)),
    ("1/sec", Rate(1, 1)),
    ("100/day", Rate(100, 86400)),
    ("5/15min", Rate(5, 900)),
    (" 20 / 15 minutes ", Rate(20, 900)),
    ("2/HOURS", Rate(2, 3600)),
])
def test_a_rate_reads_count_slash_unit(text, rate):
    assert parse_rate(text) == rate


@pytest.mark.parametrize("text", ["off", "OFF", "none", "0"])
def test_off_disables_a_limit(text):
    assert parse_rate(text) is None


@pytest.mark.parametrize("text", ["lots", "30", "30/fortnight", "0/min", "-1/min", "30/ms", "/min"])
def test_a_malformed_rate_is_a_configuration_error_naming_the_setting(text):
    with pytest.raises(ImproperlyConfigured, match="MUSE_RATE_MESSAGES"):
        parse_rate(text, "MUSE_RATE_MESSAGES")


def test_manage_py_check_reports_a_malformed_rate(settings):
    from museapp.ops.checks import rates_are_well_formed

    assert rates_are_well_formed(None) == []
    settings.MUSE_RATE_CONTEMPLATIONS = "often"
    [error] = rates_are_well_formed(None)
    assert error.id == "muse.E001" and "MUSE_RATE_CONTEMPLATIONS='often'" in error.msg


@pytest.mark.parametrize("rate, words", [
    (Rate(30, 60), "30 a minute"),
    (Rate(30, 3600), "30 an hour"),
    (Rate(5, 900), "5 per 15 minutes"),
    (Rate(3, 86400), "3 a day"),
])
def test_a_rate_reads_well_in_a_sentence(rate, words):
    assert str(rate) == words


# --- through the chat socket ------------------------------------------------


@socket_test
async def test_a_message_over_the_limit_is_refused_given_back_and_not_saved(user, conversation, llm, settings):
    settings.MUSE_RATE_MESSAGES = "2/min"
    socket = await open_chat(user, conversation.pk)
    frames = Frames(socket)
    for number in (1, 2):
        await send(socket, message=f"message {number}", client_id=f"c{number}")
        await answered(conversation, number)

    await send(socket, message="one <b>too</b> many", client_id="c3")

    text = await frames.contains("faster than Muse allows")
    assert "You're sending messages faster than Muse allows (2 a minute). Try again in" in text.replace("&#x27;", "'")
    assert 'id="pending-c3" hx-swap-oob="delete"' in text
    assert "one &lt;b&gt;too&lt;/b&gt; many</textarea>" in text
    assert len(await messages_of(conversation)) == 4, "two turns saved, the third not"
    await socket.disconnect()


@socket_test
async def test_a_message_refused_as_invalid_uses_up_no_slot(user, conversation, llm, settings):
    settings.MUSE_RATE_MESSAGES = "1/min"
    socket = await open_chat(user, conversation.pk)
    frames = Frames(socket)
    await send(socket, message="   ", client_id="c1")
    await frames.contains("empty message")

    await send(socket, message="the one real message", client_id="c2")

    await answered(conversation, 1)
    await socket.disconnect()


@socket_test
async def test_contemplating_runs_have_their_own_limit_and_a_refusal_counts_against_neither(
    user, conversation, llm, settings
):
    settings.MUSE_RATE_MESSAGES = "2/min"
    settings.MUSE_RATE_CONTEMPLATIONS = "1/hour"
    socket = await open_chat(user, conversation.pk)
    frames = Frames(socket)
    await send(socket, message="think hard", contemplate="on", client_id="c1")
    await answered(conversation, 1)

    await send(socket, message="think harder", contemplate="on", client_id="c2")
    text = await frames.contains("contemplating runs faster")
    assert "starting contemplating runs faster than Muse allows (1 an hour). Try again in 60 min." in text

    await send(socket, message="a quick one then", client_id="c3")  # the refused run took no message slot
    await answered(conversation, 2)
    await send(socket, message="and another", client_id="c4")
    await frames.contains("sending messages faster")

    contents = [m.content for m in await messages_of(conversation) if m.author == "user"]
    assert contents == ["think hard", "a quick one then"]
    await socket.disconnect()


@socket_test
async def test_a_retry_counts_as_a_message(user, conversation, llm, settings):
    settings.MUSE_RATE_MESSAGES = "1/min"
    llm.script("flaky", Reply(status=503), times=1)
    socket = await open_chat(user, conversation.pk)
    frames = Frames(socket)
    await send(socket, message="flaky")
    await frames.contains('data-status="error"')
    answer = (await messages_of(conversation))[-1]

    await send(socket, action="retry", message_id=answer.pk)

    await frames.contains("sending messages faster than Muse allows (1 a minute)")
    await sync_to_async(answer.refresh_from_db)()
    assert answer.status == "error", "the answer was not run again"
    await socket.disconnect()


@socket_test
async def test_limits_are_per_person(user, other_user, conversation, llm, settings):
    settings.MUSE_RATE_MESSAGES = "1/min"
    mine = await open_chat(user, conversation.pk)
    await send(mine, message="mine")
    await answered(conversation, 1)

    theirs_conversation = await sync_to_async(Conversation.objects.create)(user=other_user)
    theirs = await open_chat(other_user, theirs_conversation.pk)
    await send(theirs, message="theirs")
    await answered(theirs_conversation, 1)
    await mine.disconnect()
    await theirs.disconnect()


def test_when_redis_is_unreachable_the_limits_let_people_through(settings):
    settings.MUSE_RATE_MESSAGES = "1/min"
    settings.STREAM_REDIS_URLS = ["unix:///nonexistent/muse-redis.sock"]

    for _ in range(3):  # raises RateLimited (or Redis' ConnectionError) unless it fails open
        limits.answer_charge(conversation=Conversation(user_id=1), contemplate=True)
