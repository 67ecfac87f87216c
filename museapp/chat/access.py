"""Ownership checks in one place: every view and consumer loads a
conversation or message through these, so a foreign id is a 404."""

from django.http import Http404

from museapp.chat.models import Conversation, Message
from museapp.files.models import Attachment


MAX_ID = 2**63 - 1


def parse_id(value) -> int:
    """An id from a URL or a frame, or Http404: never a database error."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise Http404("No such item.")
    if isinstance(value, str) and not (value.isascii() and value.isdigit()):
        raise Http404("No such item.")  # int() would also take "1_0" or "١٢"
    number = int(value)
    if not 0 < number <= MAX_ID:
        raise Http404("No such item.")
    return number


def get_conversation_for_user(user, conversation_id) -> Conversation:
    try:
        return Conversation.objects.get(pk=parse_id(conversation_id), user_id=user.pk)
    except Conversation.DoesNotExist:
        raise Http404("No such conversation.") from None


def get_message_for_user(user, message_id, *, conversation: Conversation | None = None) -> Message:
    messages = Message.objects.select_related("conversation").filter(
        conversation__user_id=user.pk
    )
    if conversation is not None:
        messages = messages.filter(conversation=conversation)
    try:
        return messages.get(pk=parse_id(message_id))
    except Message.DoesNotExist:
        raise Http404("No such message.") from None


def get_attachment_for_user(user, attachment_id, *, conversation: Conversation | None = None) -> Attachment:
    attachments = Attachment.objects.filter(user_id=user.pk)
    if conversation is not None:
        attachments = attachments.filter(conversation=conversation)
    try:
        return attachments.get(pk=parse_id(attachment_id))
    except Attachment.DoesNotExist:
        raise Http404("No such file.") from None
