"""A conversation as JSON: the whole tree of messages with every version,
each message's author, text, status, model, tokens, cost and timings, the
leaf of the branch shown, and each contemplation with its agents' drafts,
its merge and its blind comparison, and the names of the files attached. What a file holds for one conversation
is what "Download my data" holds for each; ``museapp.exports.importing``
reads it back.

Ids in a file are the ones Muse gave; they tie a message to its parent and
a comparison to its quick answer, and an import gives new ones.
"""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from museapp.agents.models import AgentRun, Comparison, Contemplation
from museapp.chat.branches import Node, leaf_of
from museapp.chat.models import Conversation, Message
from museapp.exports.rows import exported_fields, row_of

FORMAT = "muse.conversation"
VERSION = 1

CONVERSATION_FIELDS = exported_fields(Conversation, without=("user", "current_leaf", "is_evaluation", "is_temporary"))
MESSAGE_FIELDS = exported_fields(Message, without=("conversation",))
CONTEMPLATION_FIELDS = exported_fields(Contemplation, without=("id", "message"))
RUN_FIELDS = exported_fields(AgentRun, without=("contemplation",))
COMPARISON_FIELDS = exported_fields(Comparison, without=("id", "contemplation"))


def with_trees(conversations: QuerySet) -> QuerySet:
    """``conversations`` with everything an export of each reads, in three
    queries per batch (conversations, messages with their contemplations and
    comparisons, agents' runs, attached files) however many messages there are."""
    messages = Message.objects.select_related("contemplation__comparison").order_by("id")
    return conversations.prefetch_related(Prefetch("messages", queryset=messages),
                                          "messages__contemplation__runs", "messages__attachments")


def conversation_data(conversation: Conversation) -> dict:
    """One conversation, loaded ``with_trees``, as the file's data."""
    messages = list(conversation.messages.all())
    tree = {m.pk: Node(m.pk, m.parent_id, m.author) for m in messages}
    return {**row_of(conversation, CONVERSATION_FIELDS), "current_leaf_id": leaf_of(conversation, tree),
            "messages": [message_data(message) for message in messages]}


def message_data(message: Message) -> dict:
    contemplation = message.contemplation_or_none
    return {**row_of(message, MESSAGE_FIELDS),
            "contemplation": contemplation_data(contemplation) if contemplation else None,
            "files": [file_data(attachment) for attachment in message.attachments.all()]}


def file_data(attachment) -> dict:
    """What a file says of an attachment: its name, size and type, not its
    bytes (each downloads from its chip); an import leaves them out."""
    return {"name": attachment.name, "size": attachment.size, "kind": attachment.kind,
            "media_type": attachment.media_type, "pages": attachment.pages}


def contemplation_data(contemplation: Contemplation) -> dict:
    comparison = contemplation.comparison_or_none
    return {**row_of(contemplation, CONTEMPLATION_FIELDS),
            "runs": [row_of(run, RUN_FIELDS) for run in contemplation.runs.all()],
            "comparison": row_of(comparison, COMPARISON_FIELDS) if comparison else None}


def conversation_export(*, conversation: Conversation) -> dict:
    """The JSON file of one conversation (already checked to be the person's)."""
    loaded = with_trees(Conversation.objects.filter(pk=conversation.pk)).get()
    return {"format": FORMAT, "version": VERSION, "conversation": conversation_data(loaded)}
