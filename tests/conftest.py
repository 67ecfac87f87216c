"""Shared fixtures: the fake model server, a real Celery worker process, a
real ASGI server process, and helpers to talk to them like a browser does."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.db import connections

from museapp.feedback.models import ANALYSTS_GROUP
from museapp.ops.redis_client import person, redis_key, servers, sync_client, sync_client_at
from tests.fakellm import FakeLLM, free_port

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def fake_llm():
    server = FakeLLM(port=int(os.environ["MUSE_FAKE_LLM_PORT"])).start()
    yield server
    server.stop()


@pytest.fixture
def llm(fake_llm):
    """The fake model, with this test's scripts only."""
    fake_llm.reset()
    yield fake_llm
    fake_llm.reset()


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup):
    """pytest-django's test database, with one more step before it is
    dropped: async tests query through Django's async ORM and sync_to_async,
    which run in asgiref's one shared thread and leave that thread's
    connection open (with PostgreSQL, checked out of the pool), so the drop
    would find the database still in use. That connection is closed first,
    in its own thread."""
    yield
    asyncio.run(sync_to_async(connections.close_all)())


@pytest.fixture(autouse=True)
def nobody_has_answers_in_progress(request):
    """Every database test starts with an empty database, where the ids of
    people and messages may repeat an earlier test's (SQLite starts them
    again from 1); so what Redis keeps for them starts empty too: their
    answers in progress (museapp/streams/running.py), their rate limits
    (museapp/turns/limits.py), and each stream's Stop request, lease and
    live text (museapp/streams/names.py). A test that started turns without
    a worker to end them would otherwise put a later test's person at the
    cap, many tests' turns would add up to a limit, and an earlier test's
    Stop for its msg-2 would stop this test's msg-2 as it starts."""
    if request.node.get_closest_marker("django_db") is not None:
        for redis in map(sync_client_at, servers()):
            for pattern in (redis_key("running", "*"), redis_key("rate", "*"), redis_key("stop", "*"),
                            redis_key("lease", "*"), redis_key("live", "*")):
                for key in redis.scan_iter(match=pattern):
                    redis.delete(key)


def holds_slot(user, stream) -> bool:
    """Whether one of the person's slots for answers in progress is held for ``stream``."""
    return sync_client(person(user.pk)).zscore(redis_key("running", str(user.pk)), stream.name) is not None


def database_url_for_tests() -> str:
    """The URL of the test database (after pytest-django created it), for
    processes started by the tests."""
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    user = quote(db.get("USER") or "")
    password = quote(db.get("PASSWORD") or "")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{auth}{host}:{port}/{db['NAME']}"


def process_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["DATABASE_URL"] = database_url_for_tests()
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


def stop_process(process: subprocess.Popen, timeout: float = 10) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def wait_until(predicate, timeout: float = 10.0, interval: float = 0.05, message: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {message}")


@pytest.fixture(scope="session")
def celery_worker_log(tmp_path_factory) -> Path:
    """Where the worker of `celery_worker_process` writes its output."""
    return tmp_path_factory.mktemp("worker") / "worker.log"


@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup, django_db_blocker, fake_llm, celery_worker_log):
    """A real Celery worker (threads pool) in its own process, on the test
    database and the run's Redis, as `manage.py serve` starts it."""
    from museapp.celery import ping
    from museapp.ops.management.commands.serve import worker_command

    log = celery_worker_log
    with open(log, "wb") as out:
        process = subprocess.Popen(
            worker_command(32, settings.CELERY_TASK_DEFAULT_QUEUE),
            cwd=ROOT,
            env=process_env(),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        ping.delay().get(timeout=60)
    except Exception:
        stop_process(process)
        raise RuntimeError("worker did not start:\n" + log.read_text()[-3000:]) from None
    yield process
    stop_process(process)


@pytest.fixture(scope="session")
def live_server_log(tmp_path_factory) -> Path:
    """Where the ASGI server of `live_server_url` writes its output."""
    return tmp_path_factory.mktemp("web") / "web.log"


@pytest.fixture(scope="session")
def live_server_url(celery_worker_process, live_server_log):
    """The ASGI server (uvicorn, as in production) on a free port."""
    from museapp.ops.management.commands.serve import web_command

    port = free_port()
    log = live_server_log
    with open(log, "wb") as out:
        process = subprocess.Popen(
            web_command("127.0.0.1", port),
            cwd=ROOT,
            env=process_env(),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    import socket

    def listening() -> bool:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return True
        except OSError:
            return process.poll() is not None and "exited"

    wait_until(listening, timeout=60, message="the web server")
    if process.poll() is not None:
        raise RuntimeError("web server exited:\n" + log.read_text()[-3000:])
    yield f"http://127.0.0.1:{port}"
    stop_process(process)


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user(username="ada", password="correct horse 42")


@pytest.fixture
def other_user(django_user_model):
    return django_user_model.objects.create_user(username="mallory", password="correct horse 43")


@pytest.fixture
def conversation(user):
    from museapp.chat.models import Conversation

    return Conversation.objects.create(user=user)


# People who may see insights, exports and evaluations.


@pytest.fixture
def analysts(django_user_model):
    """The group migration 0002 made. A transactional test's flush empties
    auth_group (Django re-creates only permissions), so it is made again here."""
    group, _ = Group.objects.get_or_create(name=ANALYSTS_GROUP)
    group.permissions.add(Permission.objects.get(content_type__app_label="feedback", codename="export_feedback"))
    return group


@pytest.fixture
def analyst(django_user_model, analysts):
    """A person in "Muse analysts", without staff rights."""
    person = django_user_model.objects.create_user(username="grace", password="x")
    person.groups.add(analysts)
    return person
