"""A small OpenAI-compatible streaming server: the only fake in Muse's tests.

litellm talks to it over HTTP exactly as to a real provider. Replies are
scripted by what the last user message contains; anything unscripted gets
"Echo: <message>". Each reply can set its first-token delay, per-token delay,
an error status, or a dropped connection after some tokens.

Run alone for benchmarks: ``python -m tests.fakellm --port 8100 --tokens 200``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import socket
import threading
import time
import uuid
from dataclasses import dataclass

from aiohttp import web


@dataclass
class Reply:
    text: str | None = None  # None: echo the last user message
    first_token_delay: float = 0.0
    token_delay: float = 0.0
    status: int = 200
    error_message: str = "scripted failure"
    drop_after: int | None = None  # close the connection after this many tokens
    tokens: int | None = None  # generate this many "tokN " words instead of text
    logprob: float = -0.5  # each token's log-probability, sent when the request asks for logprobs


@dataclass
class Rule:
    match: str
    reply: Reply
    times: int | None = None
    system: str | None = None  # also require this in the system prompt (an agent's role)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def split_tokens(text: str) -> list[str]:
    return re.findall(r"\s*\S+|\s+", text) or [text]


class FakeLLM:
    def __init__(self, port: int = 0, default: Reply | None = None):
        self.port = port or free_port()
        self.default = default or Reply()
        self.rules: list[Rule] = []
        self.requests: list[dict] = []
        self.headers: list[dict[str, str]] = []  # each request's HTTP headers, aligned with ``requests``
        self.in_flight = 0
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    # --- scripting --------------------------------------------------------

    def script(self, match: str, reply: Reply, times: int | None = None, system: str | None = None) -> None:
        """Answer requests whose last user message contains ``match`` (and,
        with ``system``, whose system prompt contains it: one agent's role,
        or "judge")."""
        with self._lock:
            self.rules.insert(0, Rule(match, reply, times, system))

    def reset(self) -> None:
        with self._lock:
            self.rules.clear()
            self.requests.clear()
            self.headers.clear()

    def requests_matching(self, text: str) -> list[dict]:
        with self._lock:
            return [r for r in self.requests if text in _last_user(r)]

    def headers_matching(self, text: str) -> list[dict[str, str]]:
        """The HTTP headers of the requests ``requests_matching`` returns."""
        with self._lock:
            return [h for r, h in zip(self.requests, self.headers, strict=True) if text in _last_user(r)]

    def _pick(self, body: dict, headers: dict[str, str] | None = None) -> Reply:
        last = _last_user(body)
        system = _system(body)
        with self._lock:
            self.requests.append(body)
            self.headers.append(dict(headers or {}))
            for rule in self.rules:
                if rule.system is not None and rule.system not in system:
                    continue
                if rule.match in last and (rule.times is None or rule.times > 0):
                    if rule.times is not None:
                        rule.times -= 1
                    return rule.reply
        return self.default

    # --- serving ----------------------------------------------------------

    async def _completions(self, request: web.Request) -> web.StreamResponse:
        try:
            body = await request.json()
        except ValueError:
            return web.json_response({"error": {"message": "bad json"}}, status=400)
        reply = self._pick(body, dict(request.headers))
        if reply.first_token_delay:
            await asyncio.sleep(reply.first_token_delay)
        if reply.status != 200:
            return web.json_response(
                {"error": {"message": reply.error_message, "type": "fake_error", "code": reply.status}},
                status=reply.status,
            )
        if reply.tokens is not None:
            pieces = [f"tok{i} " for i in range(reply.tokens)]
        else:
            text = reply.text if reply.text is not None else "Echo: " + _last_user(body)
            pieces = split_tokens(text)
        prompt_tokens = sum(len(str(m.get("content", "")).split()) for m in body.get("messages", []))
        model = body.get("model", "fake")
        ident = "chatcmpl-" + uuid.uuid4().hex[:12]
        created = int(time.time())
        if not body.get("stream"):
            return web.json_response(
                {
                    "id": ident, "object": "chat.completion", "created": created, "model": model,
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": "".join(pieces)}, "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": len(pieces), "total_tokens": prompt_tokens + len(pieces)},
                }
            )

        response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
        await response.prepare(request)

        def chunk(delta: dict, finish: str | None = None, usage: dict | None = None,
                  logprob: float | None = None) -> bytes:
            payload = {
                "id": ident, "object": "chat.completion.chunk", "created": created, "model": model,
                "choices": [] if usage else [{"index": 0, "delta": delta, "finish_reason": finish}],
            }
            if logprob is not None:
                payload["choices"][0]["logprobs"] = {"content": [
                    {"token": delta["content"], "logprob": logprob, "bytes": None, "top_logprobs": []}]}
            if usage:
                payload["usage"] = usage
            return f"data: {json.dumps(payload)}\n\n".encode()

        self.in_flight += 1
        try:
            await response.write(chunk({"role": "assistant", "content": ""}))
            for index, piece in enumerate(pieces):
                if reply.drop_after is not None and index >= reply.drop_after:
                    request.transport.close()  # a provider dying mid-answer
                    return response
                if index and reply.token_delay:
                    await asyncio.sleep(reply.token_delay)
                await response.write(chunk({"content": piece}, logprob=reply.logprob if body.get("logprobs") else None))
            await response.write(chunk({}, finish="stop"))
            if (body.get("stream_options") or {}).get("include_usage"):
                await response.write(
                    chunk({}, usage={"prompt_tokens": prompt_tokens, "completion_tokens": len(pieces),
                                     "total_tokens": prompt_tokens + len(pieces)})
                )
            await response.write(b"data: [DONE]\n\n")
            await response.write_eof()
        except (ConnectionResetError, asyncio.CancelledError):
            pass  # the client went away (a stopped answer)
        finally:
            self.in_flight -= 1
        return response

    async def _models(self, request: web.Request) -> web.Response:
        return web.json_response({"object": "list", "data": [{"id": "fake-model", "object": "model"}]})

    def _app(self) -> web.Application:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/v1/chat/completions", self._completions)
        app.router.add_post("/chat/completions", self._completions)
        app.router.add_get("/v1/models", self._models)
        return app

    async def _start(self) -> None:
        # A client that hangs up ends its request's handler, as a real model
        # server stops generating; a reply still waiting out its delay for a
        # stopped agent then never holds up the server's shutdown.
        self._runner = web.AppRunner(self._app(), access_log=None, handler_cancellation=True)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port, backlog=1024).start()

    def start(self) -> "FakeLLM":
        """Serve from a background thread with its own event loop."""
        self._loop = asyncio.new_event_loop()
        ready = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(self._loop)
            self._loop.run_until_complete(self._start())
            ready.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, name="fake-llm", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("fake LLM did not start")
        return self

    def stop(self) -> None:
        if self._loop is None:
            return
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop = None


def _system(body: dict) -> str:
    return " ".join(str(m.get("content", "")) for m in body.get("messages", []) if m.get("role") == "system")


def _last_user(body: dict) -> str:
    for message in reversed(body.get("messages", [])):
        if message.get("role") == "user":
            content = message.get("content", "")
            return content if isinstance(content, str) else json.dumps(content)
    return ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8100)
    parser.add_argument("--tokens", type=int, default=None, help="tokens per answer (default: echo)")
    parser.add_argument("--token-delay", type=float, default=0.0)
    parser.add_argument("--first-token-delay", type=float, default=0.0)
    args = parser.parse_args()
    fake = FakeLLM(
        port=args.port,
        default=Reply(tokens=args.tokens, token_delay=args.token_delay, first_token_delay=args.first_token_delay),
    )
    asyncio.run(_serve_forever(fake))


async def _serve_forever(fake: FakeLLM) -> None:
    await fake._start()
    print(f"fake LLM at {fake.url}", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    main()
