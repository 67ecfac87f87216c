"""Attaching files: taking an upload (its limits, its kind by content), and
choosing the files a message carries. Reading their text runs on a worker
(museapp/files/reading.py), started when the upload commits."""

from __future__ import annotations

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Sum

from museapp.files.models import Attachment
from museapp.files.sniff import HEAD_BYTES, Refused, clean_name, size_text, sniff
from museapp.files.tasks import read_attachment
from museapp.ops import ratelimit

UPLOADS = "You're attaching files faster than Muse allows ({rate}). Try again in {wait}."


def attachment_upload(*, conversation, upload: UploadedFile, model: str) -> Attachment:
    """Keep an uploaded file for the conversation's next message and start
    reading it (``model``: the chat's, to say whether it takes images); or
    Refused, keeping nothing."""
    name = clean_name(upload.name)
    _check_size(conversation, name, upload.size)
    upload.seek(0)
    head = upload.read(HEAD_BYTES)
    upload.seek(0)
    sniffed = sniff(head, name)
    _charge(conversation.user_id)
    attachment = Attachment(user_id=conversation.user_id, conversation=conversation, name=name, size=upload.size,
                            kind=sniffed.kind, media_type=sniffed.media_type)
    attachment.file.save(name, upload, save=False)
    attachment.save()
    transaction.on_commit(lambda: read_attachment.delay(attachment_id=attachment.pk, model=model))
    return attachment


def _check_size(conversation, name: str, size: int | None) -> None:
    if not size:
        raise Refused(f"{name} is empty: there is nothing in it to read.")
    if size > settings.MUSE_FILE_MAX_BYTES:
        raise Refused(f"{name} is {size_text(size)}: a file can be at most {size_text(settings.MUSE_FILE_MAX_BYTES)}.")
    if Attachment.objects.filter(conversation=conversation).unsent().count() >= settings.MUSE_FILES_PER_MESSAGE:
        raise Refused(f"A message can carry at most {settings.MUSE_FILES_PER_MESSAGE} files.")
    used = Attachment.objects.filter(user_id=conversation.user_id).aggregate(total=Sum("size"))["total"] or 0
    if used + size > settings.MUSE_FILE_QUOTA_BYTES:
        raise Refused(f"Your files already take {size_text(used)} of the {size_text(settings.MUSE_FILE_QUOTA_BYTES)} "
                      f"Muse keeps for you, so {name} does not fit. Deleting conversations deletes their files.")


def _charge(user_id: int) -> None:
    full = ratelimit.take(ratelimit.person_counters("MUSE_RATE_UPLOADS", "uploads", user_id))
    if full is not None:
        raise Refused(UPLOADS.format(rate=full.counter.rate, wait=full.wait_text()))


def attachment_remove(*, attachment: Attachment) -> None:
    """"Remove": a file not sent yet goes, bytes and all."""
    if attachment.messages.exists():
        raise Refused(f"{attachment.name} was sent with a message: it goes when the conversation is deleted.")
    attachment.delete()


def attachments_chosen(*, conversation, ids: tuple) -> list[Attachment]:
    """The files a message is sent with: the conversation's own, not sent
    yet, read; or Refused, saying which is not."""
    if len(ids) > settings.MUSE_FILES_PER_MESSAGE:
        raise Refused(f"A message can carry at most {settings.MUSE_FILES_PER_MESSAGE} files.")
    wanted = {_number(value) for value in ids}
    chosen = list(Attachment.objects.filter(pk__in=wanted, conversation=conversation).unsent())
    if len(chosen) != len(wanted):
        raise Refused("A file attached to this message is gone. Attach it again.")
    for attachment in chosen:
        if attachment.is_reading:
            raise Refused(f"{attachment.name} is still being read. Send again in a moment.")
        if not attachment.is_ready:
            raise Refused(f"{attachment.error or attachment.name + ' could not be read.'} Remove it to send.")
    return chosen


def _number(value: object) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 19:
        return int(value)
    raise Refused("A file attached to this message is gone. Attach it again.")


def attachments_unsent(*, conversation) -> list[Attachment]:
    """The files waiting in the composer (shown again after a reload)."""
    return list(Attachment.objects.filter(conversation=conversation).unsent())
