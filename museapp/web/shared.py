"""Work shared by every socket of this web process: when an event reaches
many tabs of one conversation, each loads the changed row (and renders a
finished one) once, not once per socket."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Any

KEEP_SECONDS = 5.0  # every socket of the process has taken the event by then

_pending: dict[Hashable, asyncio.Future] = {}


async def once(key: Hashable, work: Callable[[], Awaitable[Any]]) -> Any:
    """``work()``'s result, computed by the first caller with this key."""
    future = _pending.get(key)
    if future is None:
        future = asyncio.ensure_future(work())
        _pending[key] = future
        asyncio.get_running_loop().call_later(KEEP_SECONDS, _pending.pop, key, None)
    return await asyncio.shield(future)
