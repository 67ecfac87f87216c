"""Fitting a call's messages to its model's context window: the oldest
turns go first, then what will not fit of the last message's attached
files (cut at a page or a line, and said so); never the system prompt or
the question itself.

A message with attached files has a list of parts as its content: each
file a part marked with FILE_KEY (its name, where its pages end, what was
left unread at upload), then the question's own text. ``wire`` turns that
into what the provider reads."""

from __future__ import annotations

import logging
from dataclasses import replace

from django.conf import settings

from museapp.llm import local
from museapp.llm.calls import ModelCall

log = logging.getLogger(__name__)

DEFAULT_WINDOW = 8192  # tokens, for a model litellm knows nothing about
CHARS_PER_TOKEN_AT_MOST = 8  # a bound for reading history by characters before counting tokens
PER_MESSAGE_TOKENS = 8  # what a chat format adds around each message, generously
IMAGE_TOKENS = 1000  # what an image costs in the window, about (a detailed one more, a small one less)
LOCAL_MARGIN = 0.8  # the offline model's tokenizer is not litellm's: leave it room
FILE_KEY = "muse_file"


def file_part(*, name: str, text: str, page_ends: list[int] | None = None, note: str = "") -> dict:
    return {"type": "text", "text": text, FILE_KEY: {"name": name, "page_ends": list(page_ends or []), "note": note}}


def image_part(*, name: str, data_url: str) -> dict:
    return {"type": "image_url", "image_url": {"url": data_url}, FILE_KEY: {"name": name}}


def window(model: str, lib) -> int:
    """MUSE_CONTEXT_TOKENS, else what litellm knows of the model."""
    if settings.MUSE_CONTEXT_TOKENS:
        return settings.MUSE_CONTEXT_TOKENS
    if local.is_local(model):
        return local.CONTEXT_TOKENS
    try:
        return int(lib.get_model_info(model).get("max_input_tokens") or DEFAULT_WINDOW)
    except Exception:  # noqa: BLE001 - an unknown model (litellm raises several kinds)
        return DEFAULT_WINDOW


def history_chars(model: str, lib) -> int:
    """How much history text is worth reading for the model at most."""
    return window(model, lib) * CHARS_PER_TOKEN_AT_MOST


def budget_of(call: ModelCall, lib) -> int:
    """The tokens the prompt may take: the window less room for the answer."""
    if local.is_local(call.model):
        answer = min(call.max_tokens or settings.MUSE_LOCAL_MAX_TOKENS, settings.MUSE_LOCAL_MAX_TOKENS)
        return int((window(call.model, lib) - answer) * LOCAL_MARGIN)
    return window(call.model, lib) - (call.max_tokens or 0)


def fit(call: ModelCall, lib) -> tuple[ModelCall, list[str]]:
    """``call`` with the oldest turns dropped, then the last message's files
    cut, until it fits its window and still leaves room for the answer; and
    what was cut of the files, said ("read the first 40 pages of report.pdf")."""
    if local.is_local(call.model) and not any(isinstance(m["content"], list) for m in call.messages):
        return call, []  # the offline model drops old turns itself, counting with its own tokenizer
    budget = budget_of(call, lib)
    # A token covers at least one byte of UTF-8 (plus a few per message), so
    # a call with fewer bytes than the budget fits without counting, which
    # would cost time before the first token.
    if sum(len(flat_text(m).encode()) + PER_MESSAGE_TOKENS + images_in(m) * IMAGE_TOKENS
           for m in call.messages) <= budget or len(call.messages) < 2:
        return call, []
    system = [m for m in call.messages[:1] if m["role"] == "system"]
    turns = call.messages[len(system):]
    sizes = [tokens(lib, call.model, m) for m in turns]  # once each, not per drop
    total = tokens(lib, call.model, *system) + sum(sizes)
    while len(turns) > 1 and total > budget:
        total -= sizes.pop(0)
        turns = turns[1:]
    if len(turns) < len(call.messages) - len(system):
        log.info("context for %s trimmed to %d of %d turns", call.model, len(turns),
                 len(call.messages) - len(system))
    notes: list[str] = []
    if total > budget:
        last, notes = files_cut(turns[-1], room=budget - (total - sizes[-1]), lib=lib, model=call.model)
        turns = [*turns[:-1], last]
    return replace(call, messages=system + turns), notes


def tokens(lib, model: str, *messages: dict) -> int:
    """The tokens ``messages`` take as sent (an image at IMAGE_TOKENS)."""
    text = [{"role": m["role"], "content": flat_text(m)} for m in messages]
    return lib.token_counter(model=model, messages=text) + sum(images_in(m) for m in messages) * IMAGE_TOKENS


def files_cut(message: dict, *, room: int, lib, model: str) -> tuple[dict, list[str]]:
    """The message with its files cut to fit ``room`` tokens in all, its
    question whole; each cut said. A cut is estimated by characters per
    token, then counted, and made tighter when the estimate was short."""
    if not isinstance(message["content"], list):
        return message, []
    for share in (1.0, 0.85, 0.7, 0.5, 0.3, 0.0):
        kept, notes = _files_fitted(message["content"], room=room, lib=lib, model=model, share=share)
        candidate = {**message, "content": kept}
        if tokens(lib, model, candidate) <= room:
            break
    return candidate, notes


def _files_fitted(parts: list[dict], *, room: int, lib, model: str, share: float) -> tuple[list[dict], list[str]]:
    files = [p for p in parts if FILE_KEY in p]
    own = [p for p in parts if FILE_KEY not in p]
    left = (room - tokens(lib, model, {"role": "user", "content": own}) - PER_MESSAGE_TOKENS) * share
    kept: list[dict] = []
    notes: list[str] = []
    for part in files:
        size = IMAGE_TOKENS if part["type"] == "image_url" else tokens(lib, model, {"role": "user", "content": [part]})
        cut, note = (part, "") if size <= left else _cut_to(part, left / size)
        if cut is not None:
            kept.append(cut)
            left -= size if cut is part else tokens(lib, model, {"role": "user", "content": [cut]})
        if note:
            notes.append(note)
    return kept + own, notes


def _cut_to(part: dict, share: float) -> tuple[dict | None, str]:
    if part["type"] == "text" and share > 0:
        return text_cut(part, chars=int(len(part["text"]) * share))
    return None, f"left out {part[FILE_KEY]['name']}: no room in the model's window"


def text_cut(part: dict, *, chars: int) -> tuple[dict | None, str]:
    """A file's text cut to at most ``chars`` characters: at a page's end
    (a PDF) or a line's; None when not even that fits."""
    info = part[FILE_KEY]
    name, text, ends = info["name"], part["text"], info["page_ends"]
    if ends:
        pages = sum(1 for end in ends if end <= chars)
        if pages:
            kept = text[:ends[pages - 1]]
            return {**part, "text": kept}, f"read the first {_count(pages, 'page')} of {name}"
    line_end = text.rfind("\n", 0, chars)
    kept = text[:line_end if line_end > 0 else chars]
    if not kept.strip():
        return None, f"left out {name}: no room in the model's window"
    if ends:
        return {**part, "text": kept}, f"read part of the first page of {name}"
    return {**part, "text": kept}, f"read the first {_count(kept.count(chr(10)) + 1, 'line')} of {name}"


def _count(number: int, noun: str) -> str:
    return noun if number == 1 else f"{number:,} {noun}s"


def images_in(message: dict) -> int:
    content = message["content"]
    return sum(1 for p in content if p.get("type") == "image_url") if isinstance(content, list) else 0


def flat_text(message: dict) -> str:
    """A message's text as the model reads it, images left out."""
    content = message["content"]
    if not isinstance(content, list):
        return str(content)
    return "\n\n".join(wire_text(p) for p in content if p.get("type") == "text")


def wire_text(part: dict) -> str:
    info = part.get(FILE_KEY)
    if info is None:
        return part["text"]
    name = info["name"].replace('"', "'")
    note = f' note="{info["note"]}"' if info.get("note") else ""
    return f'<file name="{name}"{note}>\n{part["text"]}\n</file>'


def wire(messages: list[dict]) -> list[dict]:
    """The messages as the provider reads them: files' text wrapped with
    their names, Muse's marks taken off; all text (no image) as one string,
    which every chat format takes."""
    sent = []
    for message in messages:
        content = message["content"]
        if isinstance(content, list):
            if images_in(message):
                content = [{"type": "text", "text": wire_text(p)} if p["type"] == "text"
                           else {k: v for k, v in p.items() if k != FILE_KEY} for p in content]
            else:
                content = flat_text(message)
        sent.append({**message, "content": content})
    return sent


def images_left_out(call: ModelCall) -> tuple[ModelCall, list[str]]:
    """``call`` without its images, for a model that takes none; and that said."""
    names: list[str] = []
    messages = []
    for message in call.messages:
        if images_in(message):
            names += [p[FILE_KEY]["name"] for p in message["content"] if p.get("type") == "image_url"]
            message = {**message, "content": [p for p in message["content"] if p.get("type") != "image_url"]}
        messages.append(message)
    if not names:
        return call, []
    return replace(call, messages=messages), [f"this model can't see images, so it was not shown {', '.join(names)}"]
