"""What the model reads of a conversation: the system prompt, then the
finished turns before an answer. Read by the worker when the answer starts,
so a task carries ids, not histories."""

from __future__ import annotations

from dataclasses import replace

from museapp.chat import branches
from museapp.chat.models import Conversation, Message, Preferences
from museapp.llm.adapter import ModelCall, history_chars
from museapp.llm.config import system_prompt


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
    turns: list[dict[str, str]] = []
    used = 0
    for author, content, status in _branch_newest_first(conversation_id, before_id):
        if status == Message.Status.STREAMING:
            continue
        if author == Message.Author.ASSISTANT and (status == Message.Status.ERROR or not content):
            continue
        if max_chars is not None and turns and used + len(content) > max_chars:
            break
        used += len(content)
        turns.append({"role": author, "content": content})
    return [{"role": "system", "content": with_instructions(system_prompt(model), before_id)}, *reversed(turns)]


def _branch_newest_first(conversation_id: int, before_id: int | None):
    """(author, content, status) of the messages above ``before_id`` on its
    branch, newest first, their texts read a page at a time."""
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
        yield from (rows[pk] for pk in ids if pk in rows)


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
