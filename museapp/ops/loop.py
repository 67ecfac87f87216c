"""One asyncio event loop per worker process.

Celery's threads pool runs each task in its own thread; the tasks hand their
coroutines to this one loop, so all streams in a process share one warm HTTP
client, one channel-layer Redis pool and one stop listener (a loop per thread
would make each of those cold, see README "Performance").
"""

from __future__ import annotations

import asyncio
import threading
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
            _loop = loop
        return _loop


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
