"""Reading an attached file's text, on a worker: the reader runs in a child
process with a time limit (MUSE_FILE_READ_SECONDS) and a memory limit
(MUSE_FILE_READ_MEMORY), and caps on pages and characters; its progress goes
on the row, which the chip shows."""

from __future__ import annotations

import json
import logging
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from django.conf import settings

from museapp.files.models import Attachment
from museapp.llm.adapter import sees_images

log = logging.getLogger(__name__)

READER = Path(__file__).with_name("reader.py")


def attachment_read(*, attachment_id: int, model: str) -> str:
    """Read the file (an image: note whether ``model`` takes images);
    returns the status it ended in."""
    attachment = Attachment.objects.filter(pk=attachment_id, status=Attachment.Status.READING).first()
    if attachment is None:
        return "gone"  # removed meanwhile, or read already (a redelivered task)
    if attachment.is_image:
        return _finish(attachment_id, status=Attachment.Status.READY, model_sees_images=sees_images(model))
    try:
        result = _run_reader(attachment)
    except TimeoutError:
        result = {"error": f"took too long to read (Muse stops after {settings.MUSE_FILE_READ_SECONDS:g} seconds)"}
    if "error" in result:
        return _finish(attachment_id, status=Attachment.Status.FAILED,
                       error=f"{attachment.name} {result['error']}."[:300])
    return _finish(attachment_id, status=Attachment.Status.READY, text=result["text"],
                   page_ends=result["page_ends"], pages=result["pages"], note=result["note"])


def _finish(attachment_id: int, **fields) -> str:
    Attachment.objects.filter(pk=attachment_id, status=Attachment.Status.READING).update(progress="", **fields)
    return fields["status"]


def _run_reader(attachment: Attachment) -> dict:
    with tempfile.NamedTemporaryFile(prefix="muse-read-") as copy:
        with attachment.file.open("rb") as stored:
            shutil.copyfileobj(stored, copy, 1024 * 1024)
        copy.flush()
        # The reader sets its own memory and CPU limits first thing (a
        # preexec_fn is unsafe in a worker that runs threads).
        command = [sys.executable, "-I", str(READER), attachment.kind, copy.name,
                   str(settings.MUSE_FILE_MAX_PAGES), str(settings.MUSE_FILE_MAX_CHARS),
                   str(settings.MUSE_FILE_READ_MEMORY), str(int(settings.MUSE_FILE_READ_SECONDS) + 1)]
        child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        try:
            return _outcome(child, attachment.pk)
        finally:
            if child.poll() is None:
                child.kill()
            child.wait()


def _outcome(child: subprocess.Popen, attachment_id: int) -> dict:
    """The reader's last line, its progress lines saved as they come; or
    TimeoutError past the time limit."""
    lines: queue.Queue[str | None] = queue.Queue()
    threading.Thread(target=_pump, args=(child.stdout, lines), daemon=True).start()
    deadline = time.monotonic() + settings.MUSE_FILE_READ_SECONDS
    last: dict = {"error": "could not be read"}
    while True:
        try:
            line = lines.get(timeout=max(deadline - time.monotonic(), 0))
        except queue.Empty:
            raise TimeoutError from None
        if line is None:
            return last
        try:
            said = json.loads(line)
        except ValueError:
            continue
        if "progress" in said:
            Attachment.objects.filter(pk=attachment_id, status=Attachment.Status.READING).update(
                progress=str(said["progress"])[:100])
        else:
            last = said


def _pump(stream, lines: queue.Queue) -> None:
    for line in stream:
        lines.put(line)
    lines.put(None)
