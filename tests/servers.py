"""Servers a test owns, to restart them under a running Muse without touching
the machine's own: Redis servers and a RabbitMQ node of its own, and the
brokers a fault test runs against."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import pytest

from museapp.ops.embedded_redis import EmbeddedRedis
from tests.conftest import wait_until
from tests.fakellm import free_port

BROKERS = ("redis", "rabbitmq")  # what a fault test's stack runs on, each in turn
RABBITMQ_URL = os.environ.get("MUSE_TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672//")
RABBITMQ_SERVER = "/usr/lib/rabbitmq/bin/rabbitmq-server"  # Debian's, without the wrapper that drops to its user


def listening(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def require(what: str, present: bool) -> None:
    """A server the machine lacks skips the test on a laptop and fails it in CI."""
    if not present:
        if os.environ.get("CI"):
            pytest.fail(f"{what} is missing: CI runs every fault test against it")
        pytest.skip(f"{what} is not available here")


def broker_env(broker: str) -> dict[str, str]:
    """The environment of a Stack whose broker is ``broker``: REDIS_URL's
    server (nothing to set) or the machine's RabbitMQ."""
    if broker == "redis":
        return {}
    require("RabbitMQ on 127.0.0.1:5672", listening("127.0.0.1", 5672))
    return {"BROKER_URL": RABBITMQ_URL}


def forget_queue(broker_url: str, queue: str) -> None:
    """RabbitMQ keeps a durable queue after its workers are gone: delete a
    test stack's own."""
    from kombu import Connection

    with Connection(broker_url, connect_timeout=5) as connection:
        connection.default_channel.queue_delete(queue)


def redis_of_its_own() -> EmbeddedRedis:
    """A Redis server on a Unix socket of its own, started."""
    directory = Path(tempfile.mkdtemp(prefix="muse-redis-", dir="/tmp"))  # short: a socket path
    server = EmbeddedRedis(directory / "redis.sock", directory)
    server.start()
    return server


def restart(server, down_for: float = 1.0) -> None:
    """SIGKILL ``server`` (a Redis server or a RabbitNode), leave it down for
    ``down_for`` seconds (the outage itself), and start it again. A Redis
    server comes back empty; a RabbitMQ node keeps what was on its disk."""
    if isinstance(server, EmbeddedRedis):
        server.process.kill()  # SIGKILL: nothing saved, every connection cut
        server.process.wait()
        server.process = None
    else:
        server.kill()
    time.sleep(down_for)
    server.start()


class RabbitNode:
    """A RabbitMQ node of the test's own (its own name, port and data
    directory), killed and started again while Muse runs on it. Its
    messages are on disk, so a restart keeps what was queued."""

    def __init__(self) -> None:
        require("RabbitMQ's server", os.path.exists(RABBITMQ_SERVER))
        self.directory = Path(tempfile.mkdtemp(prefix="muse-rabbit-"))
        (self.directory / "plugins").write_text("[].")
        self.port = free_port()
        self.name = f"muse-test-{uuid.uuid4().hex[:8]}@localhost"
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}//"

    def start(self) -> None:
        d = self.directory
        env = dict(os.environ, HOME=str(d), RABBITMQ_NODENAME=self.name, RABBITMQ_NODE_IP_ADDRESS="127.0.0.1",
                   RABBITMQ_NODE_PORT=str(self.port), RABBITMQ_DIST_PORT=str(free_port()),
                   RABBITMQ_MNESIA_BASE=str(d / "mnesia"), RABBITMQ_LOG_BASE=str(d / "log"),
                   RABBITMQ_ENABLED_PLUGINS_FILE=str(d / "plugins"), RABBITMQ_FEATURE_FLAGS_FILE=str(d / "flags"),
                   RABBITMQ_CONFIG_FILE=str(d / "none"))
        with open(d / "server.log", "ab") as out:
            self.process = subprocess.Popen([RABBITMQ_SERVER], cwd=d, env=env, stdout=out, stderr=subprocess.STDOUT,
                                            start_new_session=True)
        wait_until(lambda: self.process.poll() is not None or listening("127.0.0.1", self.port), timeout=90,
                   interval=0.2, message="RabbitMQ to listen")
        assert self.process.poll() is None, (d / "server.log").read_text()[-3000:]

    def kill(self) -> None:
        """SIGKILL: every connection cut, nothing shut down cleanly."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self.process = None

    def remove(self) -> None:
        self.kill()
        shutil.rmtree(self.directory, ignore_errors=True)
