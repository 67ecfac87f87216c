"""Stream state spread over two Redis servers (STREAM_REDIS_URLS), each
started by the test: two web processes and two workers behave as one app
with conversations on both servers, and one server restarting mid-answer
loses nothing (README, "Growing past one machine")."""

import pytest
from django.test import override_settings
from redis import Redis

from museapp.chat.models import Conversation, Message
from museapp.ops.redis_client import redis_key
from museapp.ops.shards import Ring
from tests.conftest import wait_until
from tests.fakellm import Reply
from tests.live import FAST_REAPING, Stack, Tab, session_for
from tests.servers import redis_of_its_own, restart
from tests.sockets import answer_ended

pytestmark = [pytest.mark.processes, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def shards():
    servers = [redis_of_its_own(), redis_of_its_own()]
    yield servers
    for server in servers:
        server.stop()


def url(server) -> str:
    return f"unix://{server.socket_path}"


@pytest.fixture
def stack(tmp_path, llm, shards):
    # One person with many answers and tabs at once: past the per-person caps.
    stack = Stack(tmp_path, STREAM_REDIS_URLS=",".join(url(server) for server in shards), **FAST_REAPING,
                  MUSE_MAX_RUNNING_ANSWERS="20", MUSE_SOCKETS_PER_PERSON="50")
    yield stack
    stack.stop()


def tombstones(stack: Stack, server) -> set[str]:
    """The streams whose lease (ended: a tombstone) is on ``server``."""
    with override_settings(MUSE_REDIS_PREFIX=stack.env["MUSE_REDIS_PREFIX"]):
        pattern = redis_key("lease", "*")
    return {key.decode().rsplit(":", 1)[1] for key in Redis.from_url(url(server)).scan_iter(match=pattern)}


def answers(conversations) -> list[Message]:
    """Each conversation's answer, once its turn is saved."""
    return [wait_until(lambda c=c: c.messages.filter(author="assistant").first(), message="the answer")
            for c in conversations]


def test_two_web_processes_and_two_workers_serve_conversations_on_both_stream_servers(stack, llm, user, shards):
    web_a, web_b = stack.web("web-a"), stack.web("web-b")
    stack.worker("worker-a"), stack.worker("worker-b")
    session = session_for(user)
    conversations = [Conversation.objects.create(user=user) for _ in range(8)]
    tabs = [(Tab(web_a.host, session, c.pk), Tab(web_b.host, session, c.pk)) for c in conversations]
    for number, (tab, _other) in enumerate(tabs):
        llm.script(f"question {number}", Reply(text=f"Answer number {number}, told slowly.", token_delay=0.05))
        tab.send(action="send", message=f"question {number}", client_id=f"q{number}")

    for number, (answer, pair) in enumerate(zip(answers(conversations), tabs)):
        for tab in pair:  # either web process shows every answer, whichever server holds it
            tab.until(lambda text, answer=answer: answer_ended(answer.pk)(text), timeout=30)
            assert f"Answer number {number}, told slowly." in tab.text
    ring = Ring([url(server) for server in shards])
    held = {url(server): tombstones(stack, server) for server in shards}
    assert all(held.values()), "each server held some of the streams"
    for answer in answers(conversations):
        assert answer.stream.name in held[ring.url_for(answer.stream.name)], "each where the ring places it"
    assert stack.server_errors() == []


def test_one_stream_server_restarting_mid_answer_loses_nothing(stack, llm, user, shards):
    web = stack.web()
    stack.worker("worker")
    session = session_for(user)
    conversations = [Conversation.objects.create(user=user) for _ in range(4)]
    tabs = [Tab(web.host, session, c.pk) for c in conversations]
    for number, tab in enumerate(tabs):
        llm.script(f"long question {number}", Reply(tokens=150, token_delay=0.04))
        tab.send(action="send", message=f"long question {number}", client_id=f"q{number}")
    for tab in tabs:
        tab.contains("tok10 ")
    ring = Ring([url(server) for server in shards])
    first = answers(conversations)[0]
    hit = next(server for server in shards if url(server) == ring.url_for(first.stream.name))

    restart(hit)

    for answer, tab in zip(answers(conversations), tabs):
        wait_until(lambda answer=answer: Message.objects.get(pk=answer.pk).status != Message.Status.STREAMING,
                   timeout=40, message="every answer to end")
        answer.refresh_from_db()
        assert answer.status == Message.Status.DONE
        assert answer.content.startswith("tok0 ") and answer.content.rstrip().endswith("tok149")
        tab.until(answer_ended(answer.pk), timeout=20)
        assert tab.showings(answer.stream.name)[-1].rstrip().endswith("tok149"), "the page shows it whole"
    assert stack.server_errors(tracebacks=False) == []
