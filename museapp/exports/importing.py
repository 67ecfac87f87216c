"""A conversation's JSON (``museapp.exports.conversations``) read back into
a fresh conversation of a person's: every message, version, contemplation,
draft and comparison, with new ids tied together as the old ones were, and
the times they had. A fixed number of queries, whatever the size.

What was still being written when the file was made arrives ended: there is
no worker writing it here (an answer or a draft as interrupted, a
contemplation as failed).
"""

from __future__ import annotations

from django.db import transaction

from museapp.agents.models import AgentRun, Comparison, Contemplation
from museapp.chat.models import INTERRUPTED_REASON, Conversation, Message
from museapp.exports.conversations import (
    COMPARISON_FIELDS, CONTEMPLATION_FIELDS, CONVERSATION_FIELDS, FORMAT, MESSAGE_FIELDS, RUN_FIELDS, VERSION,
)
from museapp.exports.rows import ImportRefused, instance_from
from museapp.streams.run import StreamStatus

# A record still running in the file: its running statuses, and how it arrives.
RUNNING = {
    Message: ({Message.RUNNING}, Message.status_for(StreamStatus.ERROR)),
    AgentRun: ({AgentRun.RUNNING}, AgentRun.status_for(StreamStatus.ERROR)),
    Contemplation: ({Contemplation.Status.THINKING, Contemplation.Status.MERGING}, Contemplation.Status.FAILED),
}


def conversation_data_of(data: object) -> dict:
    """The conversation in an export file, or ImportRefused."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ImportRefused("This is not a conversation exported from Muse.")
    if data.get("version") != VERSION:
        raise ImportRefused(f"This file's format version is {data.get('version')!r}; Muse reads version {VERSION}.")
    conversation = data.get("conversation")
    if not isinstance(conversation, dict) or not isinstance(conversation.get("messages"), list):
        raise ImportRefused("The file holds no conversation.")
    return conversation


@transaction.atomic
def conversation_import(*, user, data: dict) -> Conversation:
    """A new conversation of ``user``'s holding the exported one; or
    ImportRefused, with nothing saved."""
    source = conversation_data_of(data)
    conversation = instance_from(Conversation, source, CONVERSATION_FIELDS, user=user)
    times = {"created_at": conversation.created_at, "updated_at": conversation.updated_at}
    conversation.save()  # stamps both times now: update() puts the file's back
    messages = messages_import(conversation, source["messages"])
    contemplations_import(messages, source["messages"])
    Conversation.objects.filter(pk=conversation.pk).update(current_leaf=messages.get(source.get("current_leaf_id")),
                                                           **times)
    conversation.refresh_from_db()
    return conversation


def ended(instance):
    """A record still running in the file, ended (see the module's note)."""
    running, end = RUNNING[type(instance)]
    if instance.status in running:
        instance.status = end
        if hasattr(instance, "error"):
            instance.error = instance.error or INTERRUPTED_REASON
    return instance


def saved_keeping_times(model, instances: list, field: str) -> None:
    """Insert ``instances`` in one go, then give them back the file's
    ``field`` times, which the insert stamps now (save them with bulk_update)."""
    times = [getattr(instance, field) for instance in instances]
    model.objects.bulk_create(instances)
    for instance, moment in zip(instances, times):
        setattr(instance, field, moment)


def old_id_of(row: dict, taken: dict) -> int:
    old_id = row.get("id")
    if type(old_id) is not int or old_id in taken:
        raise ImportRefused("Each message and run needs an id of its own.")
    return old_id


def messages_import(conversation: Conversation, rows: list) -> dict[int, Message]:
    """The file's messages, saved oldest first (so the new ids keep their
    order and a parent is older than its replies); the file's id -> the new message."""
    if not all(isinstance(row, dict) and type(row.get("id")) is int for row in rows):
        raise ImportRefused("Each message needs an id of its own.")
    messages: dict[int, Message] = {}
    parents: dict[int, int | None] = {}
    for row in sorted(rows, key=lambda row: row["id"]):
        old_id, parent = old_id_of(row, messages), row.get("parent_id")
        if parent is not None and parent not in messages:
            raise ImportRefused("A message follows one that is not before it in the file.")
        messages[old_id], parents[old_id] = ended(instance_from(Message, row, MESSAGE_FIELDS,
                                                                conversation=conversation)), parent
    saved_keeping_times(Message, list(messages.values()), "created_at")
    for old_id, parent in parents.items():
        messages[old_id].parent = messages[parent] if parent is not None else None
    Message.objects.bulk_update(messages.values(), ["parent", "created_at"])
    return messages


def contemplations_import(messages: dict[int, Message], rows: list) -> None:
    contemplations = {row["id"]: ended(instance_from(Contemplation, row["contemplation"], CONTEMPLATION_FIELDS,
                                                     message=messages[row["id"]]))
                      for row in rows if row.get("contemplation") is not None}
    saved_keeping_times(Contemplation, list(contemplations.values()), "started_at")
    Contemplation.objects.bulk_update(contemplations.values(), ["started_at"])
    runs: dict[int, AgentRun] = {}
    for row in rows:
        if row["id"] in contemplations:
            for run_row in list_of(row["contemplation"], "runs"):
                runs[old_id_of(run_row, runs)] = ended(instance_from(AgentRun, run_row, RUN_FIELDS,
                                                                     contemplation=contemplations[row["id"]]))
    saved_keeping_times(AgentRun, list(runs.values()), "started_at")
    AgentRun.objects.bulk_update(runs.values(), ["started_at"])
    Comparison.objects.bulk_create(
        comparison_from(row["contemplation"]["comparison"], contemplations[row["id"]], runs)
        for row in rows if row["id"] in contemplations and row["contemplation"].get("comparison") is not None)


def list_of(row: dict, key: str) -> list[dict]:
    items = row.get(key, [])
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise ImportRefused(f"A contemplation's {key} are not a list of objects.")
    return items


def comparison_from(row: object, contemplation: Contemplation, runs: dict[int, AgentRun]) -> Comparison:
    quick_run = runs.get(row.get("quick_run_id")) if isinstance(row, dict) else None
    if quick_run is None or quick_run.contemplation is not contemplation:
        raise ImportRefused("A comparison's quick answer is not among its contemplation's runs.")
    return instance_from(Comparison, row, COMPARISON_FIELDS, contemplation=contemplation, quick_run=quick_run)
