"""What a file is, by its first bytes rather than its name, and a name fit
to show. No I/O: the upload hands in the head of the file."""

from __future__ import annotations

import codecs
import re
import unicodedata
from dataclasses import dataclass

import filetype

from museapp.files.models import Attachment

HEAD_BYTES = 8192  # enough for every signature filetype knows, and to judge text
IMAGES = {"image/png", "image/jpeg", "image/gif", "image/webp"}
TEXT_TYPES = {  # by extension, for text that passed the content check
    ".md": "text/markdown", ".markdown": "text/markdown", ".csv": "text/csv", ".tsv": "text/tab-separated-values",
    ".json": "application/json", ".html": "text/plain", ".htm": "text/plain", ".xml": "text/plain",
}
ACCEPTED = "text (plain text, Markdown, CSV, JSON, source code, logs), PDF and images (PNG, JPEG, GIF, WebP)"


class Refused(ValueError):
    """A file Muse will not take; the message says why, to the person."""


@dataclass(frozen=True)
class Sniffed:
    kind: str
    media_type: str


def sniff(head: bytes, name: str) -> Sniffed:
    """The kind of a file whose first bytes are ``head``, or Refused."""
    guessed = filetype.guess(head)
    if guessed is not None:
        if guessed.mime == "application/pdf":
            return Sniffed(Attachment.Kind.PDF, "application/pdf")
        if guessed.mime in IMAGES:
            return Sniffed(Attachment.Kind.IMAGE, guessed.mime)
        raise Refused(f"{name} looks like {guessed.mime} ({guessed.extension}), which Muse cannot read. "
                      f"Muse reads {ACCEPTED}.")
    if looks_like_text(head):
        extension = re.search(r"\.[A-Za-z0-9]+$", name)
        media_type = TEXT_TYPES.get(extension.group(0).lower() if extension else "", "text/plain")
        return Sniffed(Attachment.Kind.TEXT, media_type)
    raise Refused(f"{name} is not a kind of file Muse can read. Muse reads {ACCEPTED}.")


def looks_like_text(head: bytes) -> bool:
    """UTF-8 (or plain ASCII) with no NUL byte; the head may end inside a character."""
    if b"\x00" in head:
        return False
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return False
    return True


def clean_name(name: object) -> str:
    """A file's name as people see it: its last path part, without control
    characters, at most 120 characters (keeping the extension); HTML in it
    is escaped wherever it is shown, like any text."""
    text = str(name or "")
    text = re.split(r"[/\\]", text)[-1]
    text = "".join(c for c in unicodedata.normalize("NFC", text) if unicodedata.category(c)[0] != "C").strip()
    text = text.lstrip(".") or "file"
    if len(text) > 120:
        stem, dot, extension = text.rpartition(".")
        text = (stem[:110] + "…" + dot + extension[:8]) if dot and len(extension) <= 8 else text[:120]
    return text


def size_text(size: int) -> str:
    """"812 bytes", "14 KB", "3.2 MB"."""
    if size < 1000:
        return f"{size} bytes"
    if size < 1_000_000:
        return f"{size / 1000:.0f} KB"
    return f"{size / 1_000_000:.1f} MB"
