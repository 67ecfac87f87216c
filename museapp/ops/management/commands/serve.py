"""`manage.py serve`: the whole app in the foreground, as `make run` starts it.

Migrates, starts the embedded Redis when REDIS_URL is unset, a Celery worker,
and the ASGI server once the worker answers. Ctrl-C stops them all, in order.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from museapp.ops import embedded_redis
from museapp.ops.workers import wait_until_consuming


def worker_command(concurrency: int, queue: str, name: str = "muse") -> list[str]:
    return [
        sys.executable, "-m", "celery", "-A", "museapp", "worker",
        "--pool", "threads",
        "--concurrency", str(concurrency),
        "--queues", queue,
        "--hostname", f"{name}@%h",
        "--without-mingle", "--without-gossip", "--without-heartbeat",
        "--loglevel", os.environ.get("LOG_LEVEL", "INFO"),
    ]


def web_command(host: str, port: int, processes: int = 1) -> list[str]:
    # --ws-max-size: uvicorn reads a whole WebSocket message (16 MiB by
    # default) before Muse can refuse it; past this it closes with 1009.
    # --workers: uvicorn's processes share the one port; each page's socket
    # stays with the process that accepted it, and the channel layer brings
    # every process its conversations' events.
    return [
        sys.executable, "-m", "uvicorn", "museapp.asgi:application",
        "--host", host, "--port", str(port),
        "--lifespan", "off",
        "--no-access-log",
        "--ws-max-size", str(settings.MUSE_WS_MAX_BYTES),
        *(["--workers", str(processes)] if processes > 1 else []),
    ]


class Command(BaseCommand):
    help = "Run Muse: embedded Redis if needed, a Celery worker and the ASGI server."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument(
            "--workers",
            type=int,
            default=int(os.environ.get("MUSE_WORKERS", "2")),
            help="worker processes (one per core uses the machine; each streams on its own event loop)",
        )
        parser.add_argument(
            "--concurrency",
            type=int,
            default=int(os.environ.get("MUSE_WORKER_CONCURRENCY", "128")),
            help="threads per worker: streams (answers and agents) one worker runs at once",
        )
        parser.add_argument(
            "--web-processes",
            type=int,
            default=settings.MUSE_WEB_PROCESSES,
            help="web server processes on the one port (each serves its sockets on its own event loop)",
        )
        parser.add_argument("--no-migrate", action="store_true")

    def handle(self, *args, host, port, workers, concurrency, web_processes, no_migrate, **options):
        self.children: list[tuple[str, subprocess.Popen]] = []
        self.redis = None
        self.stopping = False
        signal.signal(signal.SIGINT, self._on_signal)  # `&` from a script ignores SIGINT
        signal.signal(signal.SIGTERM, self._on_signal)
        try:
            if not no_migrate:
                self.stdout.write("Migrating the database…")
                call_command("migrate", interactive=False, verbosity=0)
            if settings.EMBEDDED_REDIS:
                self.redis = embedded_redis.from_settings()
                started = self.redis.start()
                where = settings.EMBEDDED_REDIS_SOCKET
                self.stdout.write(f"Embedded Redis {'started' if started else 'shared'} at {where}")
            for index in range(max(workers, 1)):
                self._spawn(f"worker {index + 1}",
                            worker_command(concurrency, settings.CELERY_TASK_DEFAULT_QUEUE, f"muse{index + 1}"))
            self._wait_for_worker()
            self._spawn("web", web_command(host, port, max(web_processes, 1)))
            self._wait_for_port(host, port)
            self.stdout.write(self.style.SUCCESS(f"Muse is running at http://{host}:{port}/  (Ctrl-C stops it)"))
            self._supervise()
        except KeyboardInterrupt:
            self.stdout.write("\nStopping Muse…")
        finally:
            self._shutdown()

    def _on_signal(self, signum, frame):
        if self.stopping:
            return
        self.stopping = True
        raise KeyboardInterrupt

    def _spawn(self, name: str, command: list[str]) -> None:
        process = subprocess.Popen(command, start_new_session=True)
        self.children.append((name, process))

    def _check_children(self) -> None:
        for name, process in self.children:
            if process.poll() is not None:
                raise CommandError(f"the {name} process exited with code {process.returncode}")

    def _wait_for_worker(self, timeout: float = 90.0) -> None:
        self.stdout.write("Starting the workers (and loading the offline model, if it is in use)…")
        try:
            wait_until_consuming(self._check_children, timeout=timeout)
        except TimeoutError as exc:
            raise CommandError(str(exc)) from None

    def _wait_for_port(self, host: str, port: int, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._check_children()
            try:
                with socket.create_connection((host, port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.1)
        raise CommandError(f"the web server did not listen on {host}:{port} in time")

    def _supervise(self) -> None:
        try:
            while True:
                self._check_children()
                time.sleep(0.5)
        except KeyboardInterrupt:
            self.stdout.write("\nStopping Muse…")

    def _shutdown(self) -> None:
        # The web first (no new messages), then the worker (a warm shutdown
        # lets answers in flight finish), then Redis. A Muse started
        # meanwhile waits for this Redis to go (museapp/ops/embedded_redis.py).
        if self.redis is not None:
            self.redis.release()
        for name, process in reversed(self.children):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for name, process in reversed(self.children):
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self.redis is not None:
            self.redis.stop()
