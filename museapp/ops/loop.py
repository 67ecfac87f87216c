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
