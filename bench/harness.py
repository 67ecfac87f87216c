"""What the benchmark scripts share: starting Muse as in production (the fake
model, Celery workers and the uvicorn web process, the commands `manage.py
serve` uses) against Redis and the database named by REDIS_URL / DATABASE_URL
(an embedded Redis and a fresh SQLite file when unset), creating people,
a WebSocket client that chats as a browser tab does, CPU readings,
and stopping everything on the way out (Ctrl-C included).

    run = BenchRun("ttft", tag="bench", keep=args.keep)
    return run.execute(lambda: measure(run))   # measure() calls run.start(...)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import websockets

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fakellm import free_port  # noqa: E402

ANSWER_TIMEOUT = 60.0  # no final status by then: the message is lost
MODEL = "openai/fake-model"


# --- helpers ---------------------------------------------------------------


def percentile(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile (p in 0..100); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def fmt(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def parse_args(parser: argparse.ArgumentParser, **quick) -> argparse.Namespace:
    """The options, with `--quick` added: a smoke run (CI runs every script so,
    `bench/smoke.py`) that takes the smaller values in `quick` for the options
    not given on the command line."""
    parser.add_argument("--quick", action="store_true",
                        help="a smoke run: " + (", ".join(f"{k.replace('_', '-')} {v}" for k, v in quick.items()) or "as is"))
    args = parser.parse_args()
    for name, value in quick.items() if args.quick else ():
        if getattr(args, name) == parser.get_default(name):
            setattr(args, name, value)
    return args


def wait_for_port(port: int, process: subprocess.Popen, name: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the {name} process exited with code {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"the {name} process did not listen on port {port} in {timeout:g} s")


class Processes:
    """The children this run started; each in its own process group, so
    stopping a group stops everything it spawned."""

    def __init__(self, log_dir: Path):
        self.log_dir = log_dir
        self.children: dict[str, subprocess.Popen] = {}
        self.redis = None

    def spawn(self, name: str, command: list[str]) -> subprocess.Popen:
        with open(self.log_dir / f"{name}.log", "wb") as log:
            process = subprocess.Popen(
                command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        self.children[name] = process
        return process

    def check(self) -> None:
        for name, process in self.children.items():
            if process.poll() is not None:
                raise RuntimeError(f"the {name} process exited with code {process.returncode}")

    def log_tail(self, name: str, chars: int = 2500) -> str:
        path = self.log_dir / f"{name}.log"
        return path.read_text(errors="replace")[-chars:] if path.exists() else ""

    def stop_all(self) -> None:
        # In reverse order of start: the web first (no new messages), then the
        # workers, then the model, then Redis.
        running = list(reversed(self.children.values()))
        for process in running:
            if process.poll() is None:
                _signal_group(process, signal.SIGTERM)
        for process in running:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                _signal_group(process, signal.SIGKILL)
                process.wait()
            # Anything the child left behind in its group goes too.
            _signal_group(process, signal.SIGKILL)
        if self.redis is not None:
            self.redis.stop()
            self.redis = None


def _signal_group(process: subprocess.Popen, signum: int) -> None:
    try:
        os.killpg(process.pid, signum)
    except (ProcessLookupError, PermissionError):
        pass


class CpuMeter:
    """CPU seconds (user + system) of the app's processes (with their
    children), of this client process alone, and of the whole machine (other
    people's work included: the machine is shared)."""

    def __init__(self, pids: dict[str, list[int]]):
        self.processes = {name: [psutil.Process(pid) for pid in group] for name, group in pids.items()}

    def sample(self) -> dict[str, float]:
        totals = {}
        for name, group in self.processes.items():
            total = 0.0
            for process in group:
                try:
                    family = [process] if process.pid == os.getpid() else [process, *process.children(recursive=True)]
                except psutil.NoSuchProcess:  # killed meanwhile (soak --faults): its CPU is not counted
                    continue
                for proc in family:
                    try:
                        times = proc.cpu_times()
                        total += times.user + times.system
                    except psutil.NoSuchProcess:
                        pass
            totals[name] = total
        machine = psutil.cpu_times()
        totals["machine"] = machine.user + machine.nice + machine.system + machine.irq + machine.softirq
        return totals


# --- start-up --------------------------------------------------------------


def configure_environment(run_dir: Path, fake_port: int) -> None:
    """The environment of this process and every child: set before Django."""
    run_id = run_dir.name
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "museapp.settings",
            "MUSE_DATA_DIR": str(run_dir),
            "LITELLM_LOCAL_MODEL_COST_MAP": "True",
            "MUSE_MODEL": MODEL,
            "MUSE_API_BASE": f"http://127.0.0.1:{fake_port}/v1",
            "MUSE_API_KEY": "x",
            "MUSE_LLM_RETRIES": "0",
            "MUSE_QUEUE": f"muse-{run_id}",
            "MUSE_REDIS_PREFIX": f"muse-{run_id}",
            "MUSE_WARM_UP": "1",  # as production
            # A benchmark's people send far faster than the per-person limits
            # allow (one sends 50 messages in a minute): measure the app, not them.
            "MUSE_RATE_MESSAGES": "off",
            "MUSE_RATE_CONTEMPLATIONS": "off",
            "MUSE_RATE_BROWSING": "off",
            # A blind comparison is drawn for a quarter of turns (a second answer,
            # the drafts hidden until the person chooses): a benchmark does the
            # same work every run, so it draws none.
            "MUSE_COMPARE_RATE": "0",
            "PYTHONUNBUFFERED": "1",
        }
    )


def wait_for_workers(processes: Processes, count: int, timeout: float = 90.0) -> None:
    """As `manage.py serve` does: until every worker is consuming."""
    from museapp.ops.workers import wait_until_consuming

    wait_until_consuming(processes.check, count=count, timeout=timeout)


@dataclass
class Person:
    user_id: int
    conversation_id: int
    session_key: str


def create_people(count: int, prefix: str) -> list[Person]:
    """Users with one conversation each, logged in by a session row: no
    password hashing (200 PBKDF2 hashes would take minutes)."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
    from django.contrib.auth.hashers import make_password
    from django.contrib.sessions.backends.db import SessionStore

    from museapp.chat.models import Conversation

    User = get_user_model()
    unusable = make_password(None)
    users = User.objects.bulk_create(
        [User(username=f"{prefix}-{i}", password=unusable) for i in range(count)]
    )
    users = list(User.objects.filter(username__startswith=f"{prefix}-").order_by("id"))
    conversations = Conversation.objects.bulk_create([Conversation(user=u) for u in users])
    people = []
    for user, conversation in zip(users, conversations):
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        people.append(Person(user.pk, conversation.pk, session.session_key))
    return people


def delete_people(prefix: str, people: list[Person]) -> None:
    from django.contrib.auth import get_user_model
    from django.contrib.sessions.models import Session

    Session.objects.filter(session_key__in=[p.session_key for p in people]).delete()
    get_user_model().objects.filter(username__startswith=f"{prefix}-").delete()


# --- the clients -------------------------------------------------------------


@dataclass
class Answer:
    status: str = "lost"  # done, error, stopped, rejected, lost, failed
    overhead_ms: float | None = None  # send -> first token frame, minus the model's delay
    first_token_ms: float | None = None  # send -> first token frame of the answer itself
    first_agent_token_ms: float | None = None  # contemplating: send -> first token frame of any agent
    done_ms: float | None = None  # send -> final status frame
    message_id: int | None = None  # the assistant message
    turn_ms: float | None = None  # send -> the turn frame (the rows are saved and rendered)
    model_ms: float | None = None  # the worker's own TTFT (model call -> first delta) minus the delay
    frames: int = 0  # every frame received for this message
    token_frames: list[int] = field(default_factory=list)  # tokens carried by each token frame
    detail: str = ""

    @property
    def tokens(self) -> int:
        return sum(self.token_frames)

    @property
    def parts(self) -> tuple[float, float, float] | None:
        """The overhead in three parts: the web process's turn (send -> the
        turn frame back: socket, DB transaction, render); the model call in
        the worker (its own TTFT minus the model's delay: litellm); the rest
        (enqueue, Celery, worker pick-up, frame publish, channel layer, web
        consumer, client)."""
        if None in (self.overhead_ms, self.turn_ms, self.model_ms):
            return None
        return self.turn_ms, self.model_ms, self.overhead_ms - self.turn_ms - self.model_ms


_ASSISTANT_ID = re.compile(r'data-message-id="(\d+)" data-author="assistant"')
_STATUS = re.compile(r'data-status="(\w+)"')
_AGENT_TOKENS = re.compile(r'id="agent-\d+-tail" hx-swap-oob="beforeend"')


class ChatSocket:
    """One person's browser tab on one conversation."""

    def __init__(self, port: int, person: Person, first_token_delay: float):
        self.port = port
        self.person = person
        self.delay_ms = first_token_delay * 1000
        self.ws = None

    async def connect(self) -> None:
        self.ws = await websockets.connect(
            f"ws://127.0.0.1:{self.port}/ws/chat/{self.person.conversation_id}/",
            origin=f"http://127.0.0.1:{self.port}",
            additional_headers={"Cookie": f"sessionid={self.person.session_key}"},
            max_size=None,
            open_timeout=30,
        )

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()

    async def ask(self, text: str, timeout: float = ANSWER_TIMEOUT, contemplate: bool = False,
                  extra: dict | None = None) -> Answer:
        """Send one message; follow its frames until the answer's final status.
        Contemplating, as the page's form sends it (switch on, the strategy),
        it also times the first agent token."""
        answer = Answer()
        client_id = uuid.uuid4().hex[:16]
        payload = {"action": "send", "message": text, "client_id": client_id}
        if contemplate:
            payload.update(contemplate="on", strategy="synthesize")
        payload.update(extra or {})
        sent = time.perf_counter()
        try:
            await self.ws.send(json.dumps(payload))
            # One timeout for the whole answer: cheaper than one per frame.
            async with asyncio.timeout(timeout):
                await self._follow(answer, f'id="pending-{client_id}"', sent, contemplate)
        except TimeoutError:
            pass  # still "lost"
        except websockets.ConnectionClosed as closed:
            answer.status, answer.detail = "failed", f"socket closed ({closed.rcvd})"
        return answer

    async def _follow(self, answer: Answer, pending: str, sent: float, agents: bool) -> None:
        body = article = None
        while True:
            frame = await self.ws.recv()
            now = time.perf_counter()
            answer.frames += 1
            if body is None:
                if pending not in frame:
                    continue  # a catch-up frame from before this message
                found = _ASSISTANT_ID.search(frame)
                if found is None:
                    answer.status = "rejected"
                    answer.detail = re.sub(r"<[^>]+>", " ", frame).split("  ")[-1].strip()[:200]
                    return
                answer.message_id = int(found.group(1))
                answer.turn_ms = (now - sent) * 1000
                body = f'id="msg-{found.group(1)}-tail" hx-swap-oob="beforeend">'
                article = f'id="msg-{found.group(1)}"'
            if agents and answer.first_agent_token_ms is None and _AGENT_TOKENS.search(frame):
                answer.first_agent_token_ms = (now - sent) * 1000
            at = frame.find(body)
            if at >= 0:
                if answer.overhead_ms is None:
                    answer.first_token_ms = (now - sent) * 1000
                    answer.overhead_ms = answer.first_token_ms - self.delay_ms
                answer.token_frames.append(frame.count("tok", at))
            if article in frame:
                status = _STATUS.search(frame, frame.find(article))
                if status and status.group(1) != "streaming":
                    answer.status = status.group(1)
                    answer.done_ms = (now - sent) * 1000
                    if answer.status == "error":
                        error = re.search(r'class="error"[^>]*>([^<]*)', frame)
                        answer.detail = error.group(1).strip() if error else ""
                    return


async def connect_all(port: int, people: list[Person], delay: float) -> list[ChatSocket]:
    sockets = [ChatSocket(port, person, delay) for person in people]
    gate = asyncio.Semaphore(50)

    async def connect(sock: ChatSocket) -> None:
        async with gate:
            await sock.connect()

    await asyncio.gather(*(connect(s) for s in sockets))
    return sockets


async def close_all(sockets: list[ChatSocket]) -> None:
    await asyncio.gather(*(s.close() for s in sockets), return_exceptions=True)




# --- one run -------------------------------------------------------------------


class BenchRun:
    """One benchmark run: its own directory (data and logs), environment,
    queue and channel prefix (so it can share a Redis with other runs), the
    processes it starts and the people it creates; `execute` stops and
    removes them all on the way out."""

    def __init__(self, name: str, *, tag: str, keep: bool = False):
        self.tag = tag  # prefixes the progress lines: "[tag] ..."
        self.keep = keep
        base = Path(os.environ.get("MUSE_DATA_DIR") or tempfile.gettempdir())
        base.mkdir(parents=True, exist_ok=True)
        self.dir = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=base)).resolve()
        self.fake_port, self.web_port = free_port(), free_port()
        configure_environment(self.dir, self.fake_port)
        self.processes = Processes(self.dir)
        self.prefix = f"bench-{self.dir.name}"
        self.people: list[Person] = []
        self.setup = ""  # which database and Redis, for the report
        self.fake: subprocess.Popen | None = None
        self.web: subprocess.Popen | None = None
        self.workers: list[subprocess.Popen] = []

    def say(self, text: str) -> None:
        print(f"[{self.tag}] {text}", flush=True)

    def start(self, *, people: int, workers: int, concurrency: int, fake_options: list[str],
              web_processes: int = 1) -> None:
        """Redis (embedded when REDIS_URL is unset), the migrated database,
        the fake model (`python -m tests.fakellm` with these options), the
        workers, `people` users with a conversation each, then the web
        process once every worker consumes, as `manage.py serve` does."""
        import django

        django.setup()
        from django.conf import settings
        from django.core.management import call_command
        from django.db import connections

        from museapp.ops import embedded_redis
        from museapp.ops.management.commands.serve import web_command, worker_command

        database = settings.DATABASES["default"]
        self.setup = (
            f"{'SQLite (fresh file)' if database['ENGINE'].endswith('sqlite3') else 'PostgreSQL ' + database['NAME']}"
            f" + {'embedded Redis' if settings.EMBEDDED_REDIS else 'Redis ' + settings.REDIS_URL}"
        )
        self.say(f"{self.setup}; run directory {self.dir}")
        processes = self.processes
        if settings.EMBEDDED_REDIS:
            processes.redis = embedded_redis.from_settings()
            processes.redis.start()
        call_command("migrate", interactive=False, verbosity=0)

        self.fake = processes.spawn(
            "fake", [sys.executable, "-m", "tests.fakellm", "--port", str(self.fake_port), *fake_options]
        )
        started = time.perf_counter()
        self.workers = [
            processes.spawn(f"worker{i}", worker_command(concurrency, settings.CELERY_TASK_DEFAULT_QUEUE,
                                                         f"{self.dir.name}-{i}"))
            for i in range(workers)
        ]
        self.people = create_people(people, self.prefix)
        connections.close_all()
        wait_for_port(self.fake_port, self.fake, "fake model")
        wait_for_workers(processes, workers)
        self.web = processes.spawn("web", web_command("127.0.0.1", self.web_port, web_processes))
        wait_for_port(self.web_port, self.web, "web")
        self.say(f"worker and web up in {time.perf_counter() - started:.1f} s")

    def pids(self) -> dict[str, list[int]]:
        """The started processes by role, and this client process."""
        pids = {
            "worker": [w.pid for w in self.workers], "web": [self.web.pid], "fake": [self.fake.pid],
            "client": [os.getpid()],
        }
        if self.processes.redis is not None:
            pids["redis"] = [self.processes.redis.process.pid]
        return pids

    def execute(self, body: Callable[[], int]) -> int:
        """Run `body` (which calls `start`); on the way out, whatever happens,
        stop everything started, delete the people from a shared database,
        and remove the run directory unless kept (--keep, or on a failure,
        when the logs' ends are printed too). Ctrl-C returns 130."""
        # Started with `&` from a script, SIGINT is ignored: handle it ourselves.
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, _interrupt)
        failed = False
        try:
            return body()
        except KeyboardInterrupt:
            print(f"\n[{self.tag}] interrupted; stopping everything", flush=True)
            return 130
        except Exception:
            failed = True
            for name in self.processes.children:
                tail = self.processes.log_tail(name)
                if tail:
                    print(f"--- {name}.log (end) ---\n{tail}", file=sys.stderr)
            raise
        finally:
            # A second Ctrl-C must not interrupt the clean-up.
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            self.processes.stop_all()
            if self.people and "DATABASE_URL" in os.environ:
                try:
                    delete_people(self.prefix, self.people)
                except Exception as exc:  # noqa: BLE001 - clean-up is best effort
                    print(f"[{self.tag}] could not delete the run's users: {exc}", file=sys.stderr)
            if self.keep or failed:
                print(f"[{self.tag}] data and logs kept in {self.dir}", file=sys.stderr)
            else:
                shutil.rmtree(self.dir, ignore_errors=True)


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def run_async(coro):
    """The clients' event loop: uvloop when installed (uvicorn[standard] brings
    it), so the benchmark's own client takes less of the shared CPU."""
    try:
        import uvloop

        factory = uvloop.new_event_loop
    except ImportError:
        factory = None
    with asyncio.Runner(loop_factory=factory) as runner:
        return runner.run(coro)
