"""Muse as separate processes that a test starts, kills and restarts: web
servers and Celery workers on the test database, with a queue and channel
prefix of their own (so the session's worker never takes their tasks), and
browser-like WebSocket tabs talking to them."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from django.test import Client
from websockets.sync.client import connect

from tests.conftest import ROOT, process_env, stop_process, wait_until
from tests.fakellm import free_port
from tests.markup import parse_html


@dataclass
class Process:
    name: str
    popen: subprocess.Popen
    log: Path
    port: int | None = None

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def output(self) -> str:
        return self.log.read_text(errors="replace")


# Short leases, so fault tests need not wait long for a dead worker to be noticed.
FAST_REAPING = {"MUSE_LEASE_SECONDS": "2", "MUSE_QUEUE_GRACE": "1"}


class Stack:
    def __init__(self, directory: Path, **env: str):
        run = uuid.uuid4().hex[:8]
        self.directory = directory
        self.env = process_env(MUSE_QUEUE=f"muse-stack-{run}", MUSE_REDIS_PREFIX=f"muse-stack-{run}", **env)
        self.processes: list[Process] = []

    def _start(self, name: str, command: list[str], port: int | None = None) -> Process:
        log = self.directory / f"{name}.log"
        with open(log, "ab") as out:
            popen = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        process = Process(name, popen, log, port)
        self.processes.append(process)
        return process

    def worker(self, name: str, concurrency: int = 4) -> Process:
        from museapp.ops.management.commands.serve import worker_command

        process = self._start(name, worker_command(concurrency, self.env["MUSE_QUEUE"], name=name))
        wait_until(lambda: " ready." in process.output() or process.popen.poll() is not None, timeout=90,
                   message=f"worker {name}")
        assert process.popen.poll() is None, process.output()[-3000:]
        return process

    def web(self, name: str = "web", processes: int = 1) -> Process:
        from museapp.ops.management.commands.serve import web_command

        port = free_port()
        process = self._start(name, web_command("127.0.0.1", port, processes), port)

        def listening() -> bool:
            if process.popen.poll() is not None:
                return True
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    return True
            except OSError:
                return False

        wait_until(listening, timeout=60, message=f"web server {name}")
        assert process.popen.poll() is None, process.output()[-3000:]
        return process

    def kill(self, process: Process) -> None:
        """SIGKILL: no clean-up, as when a machine or a process dies."""
        os.killpg(process.popen.pid, signal.SIGKILL)
        process.popen.wait()

    def stop(self) -> None:
        for process in self.processes:
            stop_process(process.popen)
        if self.env.get("BROKER_URL", "").startswith("amqp"):
            from tests.servers import forget_queue

            forget_queue(self.env["BROKER_URL"], self.env["MUSE_QUEUE"])

    def server_errors(self, *, tracebacks: bool = True) -> list[str]:
        """Lines of the web logs that show a failed request (and, with
        ``tracebacks``, any exception logged at all)."""
        signs = ("Internal Server Error", "Exception inside application") + (("Traceback",) if tracebacks else ())
        return [line for process in self.processes if process.port
                for line in process.output().splitlines() if any(sign in line for sign in signs)]


def session_for(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


class Tab:
    """One browser tab's chat socket: what it sends, and every frame it got."""

    def __init__(self, host: str, session: str, conversation_id: int, *, slow_network: bool = False):
        """``slow_network``: the tab's connection holds little it has not
        read (a 4 kB receive buffer, one frame queued), so a tab that stops
        reading soon stops the server's writes too."""
        self.host = host
        sock = None
        if slow_network:
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            sock.connect(("127.0.0.1", int(host.rsplit(":", 1)[1])))
        self.socket = connect(f"ws://{host}/ws/chat/{conversation_id}/", open_timeout=10, sock=sock,
                              max_queue=1 if slow_network else 16, ping_interval=None if slow_network else 20,
                              max_size=None,  # as a browser: no limit on what the server sends
                              compression=None if slow_network else "deflate",  # every byte on the wire
                              additional_headers={"Cookie": f"sessionid={session}", "Origin": f"http://{host}"})
        self.frames: list[str] = []

    @property
    def text(self) -> str:
        return "".join(self.frames)

    def streamed(self, stream: str) -> str:
        """The text token frames appended to one stream (``msg-7``, ``agent-3``)."""
        return "".join(re.findall(rf'<span id="{re.escape(stream)}-tail" hx-swap-oob="beforeend">([^<]*)</span>',
                                  self.text))

    def showings(self, stream: str) -> list[str]:
        """What the page showed of a stream after each frame that touched
        it, htmx's swaps applied in order: each whole rendering of its text
        (the answer re-rendered, or its body) replaces it, each token frame
        appends to it."""
        shown, showings = "", []
        for frame in self.frames:
            touched = False
            for element in parse_html(frame).children:
                if isinstance(element, str):
                    continue
                whole = [element] if element.attrs.get("id") == stream else element.all(id=stream)
                bodies = [element] if element.attrs.get("id") == f"{stream}-body" else element.all(id=f"{stream}-body")
                if whole:
                    texts = [e for e in whole[0].all() if "data-answer-text" in e.attrs]
                    shown, touched = texts[0].text if texts else "", True
                elif bodies:
                    shown, touched = bodies[0].text, True
                elif element.attrs.get("id") == f"{stream}-tail":
                    shown, touched = shown + element.text, True
            if touched:
                showings.append(shown)
        return showings

    def streams_with(self, prefix: str, needle: str) -> set[str]:
        """Streams named ``<prefix>-<id>`` whose streamed text contains ``needle``."""
        names = set(re.findall(rf'<span id="({re.escape(prefix)}-\d+)-tail" hx-swap-oob="beforeend">', self.text))
        return {name for name in names if needle in self.streamed(name)}

    def send(self, **payload) -> None:
        self.socket.send(json.dumps(payload))

    def until(self, predicate, timeout: float = 15.0) -> str:
        deadline = time.monotonic() + timeout
        while not predicate(self.text):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"timed out; frames so far:\n{self.text[-3000:]}")
            try:
                self.frames.append(self.socket.recv(timeout=remaining))
            except TimeoutError:
                continue
        return self.text

    def contains(self, needle: str, timeout: float = 15.0) -> str:
        return self.until(lambda text: needle in text, timeout)

    def close(self) -> None:
        self.socket.close()
