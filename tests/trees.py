"""Messages made in bulk (bulk_create skips Message.save, which links each
new message under the latest): link them into one line, as a conversation's
turns are."""

from museapp.chat.models import Message


def link_in_order(conversation) -> None:
    messages = list(Message.objects.filter(conversation=conversation).order_by("id"))
    for earlier, later in zip(messages, messages[1:]):
        later.parent_id = earlier.pk
    Message.objects.bulk_update(messages[1:], ["parent"], batch_size=500)
