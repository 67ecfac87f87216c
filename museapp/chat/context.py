"""What the model reads of a conversation: the system prompt, then the
finished turns before an answer. Read by the worker when the answer starts,
so a task carries ids, not histories."""

from __future__ import annotations

import base64
from collections import defaultdict
from dataclasses import replace

from django.db.models import F
from django.db.models.functions import Left

from museapp.chat import branches
from museapp.chat.models import Conversation, Message, Preferences
from museapp.files.models import Attachment
from museapp.llm.adapter import ModelCall, history_chars, sees_images
from museapp.llm.config import system_prompt
from museapp.llm.context import file_part, image_part


PAGE = 200  # texts read at a time, newest first, until the budget is spent


def call_in_context(call: dict, *, conversation_id: int, before_id: int) -> ModelCall:
    """A task's model settings with the conversation read in as its messages."""
    model_call = ModelCall(**call)
    context = model_context(conversation_id=conversation_id, before_id=before_id,
                            max_chars=history_chars(model_call.model), model=model_call.model)
    return replace(model_call, messages=context)


def model_context(*, conversation_id: int, before_id: int | None = None, max_chars: int | None = None,
                  model: str = "") -> list[dict[str, str]]:
    """The system prompt, then the finished turns of the branch that leads
    to ``before_id`` (an answer; None: the branch shown), failed or empty
    answers left out, newest first up to ``max_chars`` of text: the oldest
    go first. The latest turn is always kept; the model adapter trims to the
    model's window exactly (museapp/llm/context.py)."""
    turns: list[dict] = []
    used = 0
    for author, content, status, files in _branch_newest_first(conversation_id, before_id, max_chars, model):
        if status == Message.Status.STREAMING:
            continue
        if author == Message.Author.ASSISTANT and (status == Message.Status.ERROR or not content):
            continue
        size = len(content) + sum(len(part.get("text", "")) for part in files)
        if max_chars is not None and turns and used + size > max_chars:
            break
        used += size
        turns.append({"role": author, "content": [*files, {"type": "text", "text": content}] if files else content})
    return [{"role": "system", "content": with_instructions(system_prompt(model), before_id)}, *reversed(turns)]


def _branch_newest_first(conversation_id: int, before_id: int | None, max_chars: int | None, model: str):
    """(author, content, status, files) of the messages above ``before_id``
    on its branch, newest first, their texts read a page at a time."""
    tree = branches.tree_of(conversation_id, before_id=before_id)
    if before_id is None:
        leaf = branches.leaf_of(Conversation.objects.get(pk=conversation_id), tree)
    else:
        leaf = Message.objects.filter(pk=before_id).values_list("parent_id", flat=True).first()
    path = branches.path_to(leaf, tree)[::-1]
    for start in range(0, len(path), PAGE):
        ids = path[start:start + PAGE]
        rows = {pk: row for pk, *row in Message.objects.filter(pk__in=ids).values_list(
            "id", "author", "content", "status")}
        files = files_of(ids, max_chars=max_chars, model=model)
        yield from ((*rows[pk], files.get(pk, [])) for pk in ids if pk in rows)


def files_of(message_ids: list[int], *, max_chars: int | None, model: str) -> dict[int, list[dict]]:
    """The model's parts for the files the messages carry, by message id:
    each file's text (at most ``max_chars``, read so, not cut after), each
    image as data when the model takes images (else empty: the adapter
    leaves it out, saying so)."""
    rows = (Attachment.objects.filter(messages__in=message_ids, status=Attachment.Status.READY)
            .annotate(message_id=F("messages__id"), head=Left("text", max_chars or 10**9))
            .only("id", "name", "kind", "media_type", "file", "page_ends", "note").order_by("id"))
    sees = None
    parts: dict[int, list[dict]] = defaultdict(list)
    for attachment in rows:
        if attachment.is_image:
            sees = sees_images(model) if sees is None else sees
            parts[attachment.message_id].append(image_part(
                name=attachment.name, data_url=_data_url(attachment) if sees else ""))
        else:
            parts[attachment.message_id].append(file_part(
                name=attachment.name, text=attachment.head, page_ends=attachment.page_ends, note=attachment.note))
    return parts


def question_files(answer_id: int, model: str, max_chars: int | None = None) -> list[dict]:
    """The parts for the files of the question an answer follows (what the judge reads besides it)."""
    question = Message.objects.filter(pk=answer_id).values_list("parent_id", flat=True).first()
    return files_of([question], max_chars=max_chars, model=model).get(question, []) if question else []


def _data_url(attachment: Attachment) -> str:
    with attachment.file.open("rb") as stored:
        data = base64.b64encode(stored.read()).decode("ascii")
    return f"data:{attachment.media_type};base64,{data}"


def instructions_for(answer_id: int | None) -> str:
    """The person's custom instructions, when the answer was started with
    them (``Message.with_instructions``), else ""."""
    if answer_id is None:
        return ""
    owner = Message.objects.filter(pk=answer_id, with_instructions=True).values_list(
        "conversation__user_id", flat=True).first()
    preferences = Preferences.objects.filter(user_id=owner).first() if owner else None
    return preferences.instructions if preferences else ""


def with_instructions(prompt: str, answer_id: int | None) -> str:
    instructions = instructions_for(answer_id)
    return f"{prompt}\n\n{instructions}" if instructions else prompt
