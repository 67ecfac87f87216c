"""Reads one file's text, in a process of its own: run by museapp.files.reading
as ``python -I reader.py KIND PATH MAX_PAGES MAX_CHARS MEMORY SECONDS``,
under a memory and CPU limit it sets itself and the caller's time limit, so a hostile PDF (a decompression bomb, millions of pages, a
loop) costs at most that and never the worker. Imports nothing of Muse's.

Writes JSON lines to stdout: {"progress": "..."} while reading, then one
{"text", "page_ends", "pages", "note"} or {"error"}."""

from __future__ import annotations

import json
import resource
import sys
import time


def say(**fields) -> None:
    sys.stdout.write(json.dumps(fields) + "\n")
    sys.stdout.flush()


def read_text(path: str, max_chars: int) -> dict:
    with open(path, encoding="utf-8", errors="replace", newline="") as handle:
        text = handle.read(max_chars + 1)
    note = ""
    if len(text) > max_chars:
        text = text[:max_chars]
        note = f"only the first {max_chars:,} characters were read"
    return {"text": text.replace("\x00", ""), "page_ends": [], "pages": None, "note": note}


def read_pdf(path: str, max_pages: int, max_chars: int) -> dict:
    from pypdf import PdfReader  # here: the text reader never needs it

    reader = PdfReader(path)
    if reader.is_encrypted:
        try:
            reader.decrypt("")
        except Exception:  # noqa: BLE001 - pypdf raises several kinds for a password it lacks
            return {"error": "is protected by a password"}
    total = len(reader.pages)
    parts: list[str] = []
    ends: list[int] = []
    length, last_said = 0, 0.0
    for number in range(min(total, max_pages)):
        page_text = (reader.pages[number].extract_text() or "").replace("\x00", "").strip()
        parts.append(page_text + "\n\n")
        length += len(parts[-1])
        ends.append(length)
        if time.monotonic() - last_said > 0.2:
            say(progress=f"Reading page {number + 1} of {total:,}")
            last_said = time.monotonic()
        if length >= max_chars:
            break
    text = "".join(parts)[:max_chars]
    if not text.strip():
        return {"error": "has no text Muse can read (a scanned PDF has only pictures of text)"}
    read = len(ends)
    note = f"only the first {read:,} of {total:,} pages were read" if read < total else ""
    return {"text": text, "page_ends": [min(end, len(text)) for end in ends], "pages": total, "note": note}


def main(kind: str, path: str, max_pages: str, max_chars: str, memory: str, seconds: str) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (int(memory), int(memory)))
    resource.setrlimit(resource.RLIMIT_CPU, (int(seconds), int(seconds)))
    try:
        result = read_pdf(path, int(max_pages), int(max_chars)) if kind == "pdf" else read_text(path, int(max_chars))
    except MemoryError:
        result = {"error": "needs more memory to read than Muse allows"}
    except RecursionError:
        result = {"error": "could not be read (it is nested too deeply)"}
    except Exception:  # noqa: BLE001 - any malformed file: pypdf raises many kinds
        result = {"error": "could not be read (it looks damaged)" if kind == "pdf" else "could not be read"}
    say(**result)


if __name__ == "__main__":
    main(*sys.argv[1:7])
