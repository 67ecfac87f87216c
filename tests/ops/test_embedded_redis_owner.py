"""`make run` restarted right after Ctrl-C: the new Muse waits for the old
embedded Redis to go and keeps its own; a live owner's server is shared; a
killed owner's server is taken over. Each owner here is a real process."""

import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from museapp.ops.embedded_redis import EmbeddedRedis, _answers
from tests.conftest import ROOT

# An owner as `manage.py serve` is one: it starts the server, and on "stop"
# says it is stopping, takes a second to stop its workers, then stops Redis.
OWNER = """
import sys, time
from pathlib import Path
from museapp.ops.embedded_redis import EmbeddedRedis
server = EmbeddedRedis(Path(sys.argv[1]), Path(sys.argv[2]))
print("started" if server.start() else "shared", flush=True)
sys.stdin.readline()
server.release()
print("stopping", flush=True)
time.sleep(1.0)
server.stop()
"""


@pytest.fixture
def place():
    with tempfile.TemporaryDirectory(dir="/tmp", prefix="er-") as where:  # a Unix socket's path is short
        yield Path(where) / "redis.sock", Path(where)


def owner(place) -> subprocess.Popen:
    process = subprocess.Popen([sys.executable, "-c", OWNER, *map(str, place)], cwd=ROOT, text=True,
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert process.stdout.readline().strip() == "started"
    return process


@pytest.fixture
def ours(place):
    server = EmbeddedRedis(*place)
    yield server
    server.stop()


def test_a_restart_during_the_old_ones_shutdown_waits_for_it_and_keeps_its_own_server(place, ours):
    old = owner(place)
    old.stdin.write("stop\n")
    old.stdin.flush()
    assert old.stdout.readline().strip() == "stopping"

    assert ours.start() is True
    assert old.wait(timeout=30) == 0

    assert _answers(place[0]), "the old owner's stop left the new server's socket alone"
    assert ours.owner() == (os.getpid(), False)


def test_a_live_owners_server_is_shared_and_left_running(place, ours):
    old = owner(place)
    try:
        assert ours.start() is False
        ours.stop()
        assert _answers(place[0]), "not ours to stop"
    finally:
        old.stdin.write("stop\n")
        old.stdin.flush()
        old.wait(timeout=30)
    assert not _answers(place[0])


def test_a_killed_owners_server_is_taken_over(place, ours):
    old = owner(place)
    os.kill(old.pid, signal.SIGKILL)
    old.wait()
    assert _answers(place[0]), "the server outlives its killed owner (it runs in its own session)"

    assert ours.start() is True

    assert _answers(place[0]) and ours.process.poll() is None, "a server of our own answers"
    assert ours.owner() == (os.getpid(), False)
