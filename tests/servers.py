"""Servers a test owns, to restart them under a running Muse without touching
the machine's own: Redis servers, a RabbitMQ node and a PostgreSQL server of
its own, and the brokers a fault test runs against. Importable without pytest: bench/soak.py
--faults starts the same servers."""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

from museapp.ops.embedded_redis import EmbeddedRedis
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
    import pytest

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
        if not os.path.exists(RABBITMQ_SERVER):
            raise FileNotFoundError(f"RabbitMQ's server is not at {RABBITMQ_SERVER}")
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
        deadline = time.monotonic() + 90
        while self.process.poll() is None and not listening("127.0.0.1", self.port):
            if time.monotonic() > deadline:
                raise TimeoutError("RabbitMQ did not listen within 90 s")
            time.sleep(0.2)
        if self.process.poll() is not None:
            raise RuntimeError("RabbitMQ exited: " + (d / "server.log").read_text()[-3000:])

    def kill(self) -> None:
        """SIGKILL: every connection cut, nothing shut down cleanly."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self.process = None

    def remove(self) -> None:
        self.kill()
        shutil.rmtree(self.directory, ignore_errors=True)


PG_BINARIES = sorted(glob.glob("/usr/lib/postgresql/*/bin"))  # Debian's: initdb, pg_ctl, pg_dump, psql


class PostgresServer:
    """A PostgreSQL cluster of the test's own (its own data directory and
    port, the machine's binaries), stopped hard and started again while Muse
    runs on it."""

    def __init__(self) -> None:
        if not PG_BINARIES:
            raise FileNotFoundError("PostgreSQL's server binaries are not under /usr/lib/postgresql")
        self.bin = Path(PG_BINARIES[-1])
        self.directory = Path(tempfile.mkdtemp(prefix="muse-pg-"))
        self.data = self.directory / "data"
        self.port = free_port()
        # initdb and postgres refuse to run as root: as root, run them as postgres.
        self.as_owner = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_owner:
            shutil.chown(self.directory, "postgres")
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/muse"

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run([*self.as_owner, str(self.bin / tool), *args], check=True, capture_output=True)

    def start(self) -> None:
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.directory / "server.log"), "-w",
                  "start")

    def kill(self) -> None:
        """Stop at once, as a crash does: every connection cut, nothing flushed."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "stop")

    def create(self) -> None:
        """The (empty) database ``muse``."""
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "muse")

    def copy_of(self, database_url: str) -> None:
        """Create the database ``muse`` as a copy of ``database_url``'s (the
        test database, migrated and holding the test's person)."""
        self.create()
        dump = subprocess.run([str(self.bin / "pg_dump"), "--no-owner", "--no-privileges", database_url],
                              check=True, capture_output=True)
        subprocess.run([str(self.bin / "psql"), "-q", "-v", "ON_ERROR_STOP=1", self.url], input=dump.stdout,
                       check=True, capture_output=True)

    def query(self, sql: str, *params) -> list[tuple]:
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as connection:
            return connection.execute(sql, params).fetchall()

    def remove(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "stop")
        except subprocess.CalledProcessError:
            pass  # not running
        shutil.rmtree(self.directory, ignore_errors=True)
