"""Attached files' views: upload one (a chip comes back), the chip again
while it is read, remove it before sending, download a sent or unsent one.
Every view loads through the ownership helpers: a foreign id is a 404."""

from __future__ import annotations

from django.http import FileResponse, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.views.decorators.http import require_GET, require_POST

from museapp.chat.access import get_attachment_for_user, get_conversation_for_user
from museapp.files import services as files
from museapp.files.sniff import Refused
from museapp.llm.config import configured_model


@require_POST
def attachment_upload(request: HttpRequest, conversation_id: str) -> HttpResponse:
    """One file (the field "file"), as a chip for the composer; a refusal
    is a 400 whose text says why."""
    conversation = get_conversation_for_user(request.user, conversation_id)
    upload = request.FILES.get("file")
    if upload is None:
        return _refused("No file arrived. Attach it again.")
    try:
        attachment = files.attachment_upload(conversation=conversation, upload=upload,
                                             model=configured_model(conversation.model))
    except Refused as refused:
        return _refused(str(refused))
    return _chip(request, attachment, status=201)


@require_GET
def attachment_chip(request: HttpRequest, conversation_id: str, attachment_id: str) -> HttpResponse:
    """The chip again (its reading's progress), polled while it is read."""
    conversation = get_conversation_for_user(request.user, conversation_id)
    return _chip(request, get_attachment_for_user(request.user, attachment_id, conversation=conversation))


@require_POST
def attachment_remove(request: HttpRequest, conversation_id: str, attachment_id: str) -> HttpResponse:
    conversation = get_conversation_for_user(request.user, conversation_id)
    attachment = get_attachment_for_user(request.user, attachment_id, conversation=conversation)
    try:
        files.attachment_remove(attachment=attachment)
    except Refused as refused:
        return _refused(str(refused))
    return HttpResponse("")


@require_GET
def attachment_download(request: HttpRequest, attachment_id: str) -> FileResponse:
    """The file as it was attached, always as a download (never shown in
    the page: an HTML or SVG file must not run as Muse's)."""
    attachment = get_attachment_for_user(request.user, attachment_id)
    response = FileResponse(attachment.file.open("rb"), as_attachment=True, filename=attachment.name,
                            content_type="application/octet-stream")
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


def _chip(request: HttpRequest, attachment, status: int = 200) -> HttpResponse:
    return TemplateResponse(request, "files/_chip.html", {"attachment": attachment, "draft": True}, status=status)


def _refused(reason: str) -> HttpResponse:
    return HttpResponse(reason, status=400, content_type="text/plain; charset=utf-8")
