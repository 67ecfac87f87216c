"""PostgreSQL goes away in the middle of an answer and of a contemplation (a
server of the test's own, stopped as a crash stops it, then started again):
what finished streaming meanwhile is saved once it is back, pages say what
is wrong instead of failing, and a message sent meanwhile stays in the box."""

import re
import urllib.error
import urllib.request

import pytest
from django.db import connection

from tests.conftest import database_url_for_tests, wait_until
from tests.fakellm import Reply
from tests.live import FAST_REAPING, Stack, Tab, session_for
from tests.servers import PG_BINARIES, PostgresServer, require
from tests.sockets import answer_ended

pytestmark = [pytest.mark.processes, pytest.mark.django_db(transaction=True)]

NOT_SENT = "so your message was not sent"


@pytest.fixture
def database():
    if connection.vendor != "postgresql":
        pytest.skip("a PostgreSQL outage: the suite runs on PostgreSQL in CI")
    require("PostgreSQL's server binaries", bool(PG_BINARIES))
    server = PostgresServer()
    server.start()
    yield server
    server.remove()


@pytest.fixture
def stack(tmp_path, llm, database):
    stack = Stack(tmp_path, DATABASE_URL=database.url, **FAST_REAPING, MUSE_AGENTS="2",
                  MUSE_MERGE_STRATEGY="select", MUSE_DB_POOL_TIMEOUT="3")
    yield stack
    stack.stop()


def answer(database: PostgresServer, conversation_id: int) -> tuple[int, str, str] | None:
    rows = database.query("SELECT id, status, content FROM chat_message WHERE conversation_id = %s "
                          "AND author = 'assistant' ORDER BY id DESC LIMIT 1", conversation_id)
    return rows[0] if rows else None


def page(host: str, session: str, path: str) -> tuple[int, str]:
    request = urllib.request.Request(f"http://{host}{path}", headers={"Cookie": f"sessionid={session}"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def saving_again(worker) -> bool:
    return "the database is unreachable; saving" in worker.output()


def test_an_answer_that_ends_while_postgresql_is_down_is_saved_when_it_is_back(stack, llm, user, conversation,
                                                                                 database):
    llm.script("through the outage", Reply(tokens=150, token_delay=0.04))
    session = session_for(user)
    database.copy_of(database_url_for_tests())  # the person, their session and conversation
    web, worker = stack.web(), stack.worker("w1")
    tab = Tab(web.host, session, conversation.pk)
    tab.send(action="send", message="through the outage", client_id="c1")
    tab.contains("tok10 ")

    database.kill()

    status, body = page(web.host, session, f"/c/{conversation.pk}/")
    assert status == 503 and "reach its database right now. Nothing is lost" in body, "a clear page, not a 500"
    tab.send(action="send", message="typed during the outage", client_id="c2")
    tab.contains(NOT_SENT, timeout=30)
    assert re.search(r'<textarea id="message-input"[^>]*>typed during the outage</textarea>', tab.text), \
        "what was typed goes back into the box"
    tab.contains("tok149")  # the answer streams to its end meanwhile (through Redis)...
    wait_until(lambda: saving_again(worker), timeout=20, message="the worker to keep trying to save")

    database.start()

    wait_until(lambda: answer(database, conversation.pk)[1] == "done", timeout=60, message="the answer saved")
    answer_id, _status, content = answer(database, conversation.pk)
    assert content.startswith("tok0 ") and content.rstrip().endswith("tok149"), "...and is saved whole"
    tab.until(answer_ended(answer_id), timeout=20)
    assert page(web.host, session, f"/c/{conversation.pk}/")[0] == 200

    llm.script("typed during the outage", Reply(text="Received, now that it is back."))
    tab.send(action="send", message="typed during the outage", client_id="c3")
    tab.contains("Received, now that it is back.", timeout=30)
    assert stack.server_errors(tracebacks=False) == [], "no request failed with a 500"


def test_a_contemplation_whose_drafts_end_while_postgresql_is_down_still_merges(stack, llm, user, conversation,
                                                                                 database):
    llm.script("weigh it through the outage", Reply(tokens=100, token_delay=0.04))
    llm.script("weigh it through the outage", Reply(text="Pick Draft A. Both agree."), system="judge")
    session = session_for(user)
    database.copy_of(database_url_for_tests())
    web, worker = stack.web(), stack.worker("w1")
    tab = Tab(web.host, session, conversation.pk)
    tab.send(action="send", message="weigh it through the outage", contemplate="on", client_id="c1")
    tab.until(lambda _text: len(tab.streams_with("agent", "tok5 ")) == 2)

    database.kill()

    tab.until(lambda _text: len(tab.streams_with("agent", "tok99")) == 2, timeout=30)
    wait_until(lambda: saving_again(worker), timeout=20, message="the worker to keep trying to save the drafts")

    database.start()

    wait_until(lambda: answer(database, conversation.pk)[1] == "done", timeout=90, message="the merged answer")
    answer_id, _status, content = answer(database, conversation.pk)
    assert content.rstrip().endswith("tok99"), "a whole draft, chosen by the merge"
    drafts = database.query("SELECT r.status, r.text FROM agents_agentrun r JOIN agents_contemplation c "
                            "ON r.contemplation_id = c.id WHERE c.message_id = %s AND r.kind = 'agent'", answer_id)
    assert [status for status, _text in drafts] == ["done", "done"]
    assert all(text.rstrip().endswith("tok99") for _status, text in drafts), "no draft lost its text"
    # The open page may have been closed with 1013 while an event could not be rendered: it reconnects.
    Tab(web.host, session, conversation.pk).until(answer_ended(answer_id), timeout=20)
    assert stack.server_errors(tracebacks=False) == [], "nothing failed with a 500 or an exception"
