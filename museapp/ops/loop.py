"""One asyncio event loop per worker process.

Celery's threads pool runs each task in its own thread; the tasks hand their
coroutines to this one loop, so all streams in a process share one warm HTTP
client, one channel-layer Redis pool and one stop listener (a loop per thread
would make each of those cold, see README "Performance").
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

_loop: asyncio.AbstractEventLoop | None = None
_lock = threading.Lock()


def get_loop() -> asyncio.AbstractEventLoop:
    global _loop
    with _lock:
        if _loop is None or _loop.is_closed():
            loop = asyncio.new_event_loop()
            thread = threading.Thread(
                target=loop.run_forever, name="muse-event-loop", daemon=True
            )
            thread.start()
            threading.Thread(target=_nudge, args=(loop,), name="muse-loop-nudge", daemon=True).start()
            _loop = loop
        return _loop


def _nudge(loop: asyncio.AbstractEventLoop, every: float = 0.25) -> None:
    """Wake the loop a few times a second. Seen in CI: a stop request's
    timers and pub/sub wake-up went unnoticed until another thread handed the
    loop work, so a stream ran on for 30 s after Stop. Until that cause is
    found, a regular thread-safe wake-up bounds the delay."""
    while not loop.is_closed():
        time.sleep(every)
        try:
            loop.call_soon_threadsafe(_noop)
        except RuntimeError:  # closed meanwhile
            return


def _noop() -> None:
    pass


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine on the process's loop and wait for its result."""
    return asyncio.run_coroutine_threadsafe(coro, get_loop()).result()


def warm_up() -> None:
    """Import and set up what the first message would otherwise pay for."""
    from museapp.chat.streaming import warm_up as warm_streaming
    from museapp.llm import local
    from museapp.llm.adapter import warm_up as warm_llm
    from museapp.llm.config import available_models, configured_model

    from django.conf import settings

    from museapp.llm.config import model_call

    model = configured_model()
    probe = None
    if settings.MUSE_API_BASE and model and not local.is_local(model):
        # A self-hosted OpenAI-compatible server: one token opens the
        # connection the first message would otherwise wait for.
        probe = model_call(model=model, messages=[{"role": "user", "content": "ping"}], max_tokens=1)
    run(warm_llm(model, probe))
    run(warm_streaming())
    if any(choice.is_local for choice in available_models()):
        local.warm_up()
