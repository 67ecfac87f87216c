"""Warm a worker process before its first stream: litellm's import and
first call, the provider's connection, and the Redis connections every
stream uses (channel layer, stop listener, leases and their script)."""

from __future__ import annotations

from channels.layers import get_channel_layer
from django.conf import settings

from museapp.llm import adapter, local
from museapp.llm.config import available_models, configured_model, model_call
from museapp.ops import loop
from museapp.streams import leases, stopping
from museapp.streams.names import Stream

WARM_UP_STREAM = Stream.answer(0)  # no message has id 0


def warm_up() -> None:
    model = configured_model()
    probe = None
    if settings.MUSE_API_BASE and model and not local.is_local(model):
        # A self-hosted OpenAI-compatible server: one token opens the
        # connection the first message would otherwise wait for.
        probe = model_call(model=model, messages=[{"role": "user", "content": "ping"}], max_tokens=1)
    loop.run(adapter.warm_up(model, probe))
    loop.run(_warm_redis())
    if any(choice.is_local for choice in available_models()):
        local.warm_up()


async def _warm_redis() -> None:
    await stopping.listen()
    await get_channel_layer().group_send("warm-up", {"type": "warm.up"})
    if await leases.claim(WARM_UP_STREAM):
        await leases.release(WARM_UP_STREAM)
