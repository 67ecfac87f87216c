"""Conversations and their messages: the business logic, free of sockets,
workers and contemplation (museapp/turns starts and runs turns)."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from museapp.chat import branches
from museapp.chat.models import INTERRUPTED_REASON, Conversation, Message, Preferences
from museapp.llm.config import available_models, configured_model
from museapp.streams.run import StreamResult

TITLE_LENGTH = 60
NO_MODEL_REASON = (
    "No language model is configured. Set MUSE_MODEL (for example "
    "openai/gpt-4o-mini with OPENAI_API_KEY, or an OpenAI-compatible server with "
    "MUSE_API_BASE), then restart Muse and press Retry."
)


class InvalidMessage(ValueError):
    """The person's input cannot be accepted; ``reason`` says why."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


# --- conversations ----------------------------------------------------------


def conversation_latest(*, user) -> Conversation | None:
    """The conversation the person last used, among those they keep (a
    temporary chat is never opened by chance)."""
    return Conversation.objects.filter(user=user).listed().only("id").first()


def conversation_open_new(*, user) -> Conversation:
    """Open a fresh chat, reusing an untouched one instead of piling them up:
    made an ordinary chat again (the Temporary switch is per new chat) and
    moved to the top of the list."""
    empty = (
        Conversation.objects.filter(user=user)
        .exclude(Exists(Message.objects.filter(conversation=OuterRef("pk"))))
        .first()
    )
    if empty is None:
        return Conversation.objects.create(
            user=user, contemplate=preferences_for(user_id=user.pk).contemplate_new_chats)
    empty.is_temporary = False
    empty.save(update_fields=["is_temporary", "updated_at"])
    return empty


def conversation_pin(*, conversation: Conversation, pinned: bool) -> Conversation:
    """Pin to the top of the list, or unpin. Neither is activity: the
    conversation keeps its place among the others (updated_at)."""
    if pinned and conversation.pinned_at is None:
        conversation.pinned_at = timezone.now()
    elif not pinned:
        conversation.pinned_at = None
    Conversation.objects.filter(pk=conversation.pk).update(pinned_at=conversation.pinned_at)
    return conversation


TEMPORARY_FIXED = "A chat can be made temporary (or not) only before its first message."


@transaction.atomic
def conversation_set_temporary(*, conversation: Conversation, temporary: bool) -> Conversation:
    """The Temporary chat switch, while the chat has no message yet; locked
    as a turn locks it, so no first message slips in meanwhile."""
    locked = Conversation.objects.select_for_update().get(pk=conversation.pk)
    if locked.messages.exists():
        raise InvalidMessage(TEMPORARY_FIXED)
    locked.is_temporary = temporary
    locked.save(update_fields=["is_temporary", "updated_at"])
    return locked


def conversation_rename(*, conversation: Conversation, title: str) -> Conversation:
    title = " ".join(title.split())[:200]
    if not title:
        raise InvalidMessage("A title cannot be empty.")
    conversation.title = title
    conversation.save(update_fields=["title", "updated_at"])
    return conversation


def conversation_pick_model(*, conversation: Conversation, model: str) -> Conversation:
    if not any(choice.id == model for choice in available_models()):
        raise InvalidMessage("That model is not on offer here.")
    conversation.model = model
    conversation.save(update_fields=["model", "updated_at"])
    return conversation


def conversation_delete(*, conversation: Conversation) -> None:
    conversation.delete()


PAGE_MESSAGES = 100  # the latest 50 turns; older ones load as the page scrolls up
PAGE_FROM_FOUND = 400  # a message found further back than this still opens the latest page
FOUND_CONTEXT = 2  # messages before the one found, so it is not the page's very first


def conversation_messages(*, conversation: Conversation, before_id: int | None = None,
                          showing_id: int | None = None) -> tuple[list[Message], bool]:
    """The latest page of the branch shown (before ``before_id``), oldest
    first, each with its versions, and whether older ones remain. A message
    ``showing_id`` of the branch older than that page (a search result)
    makes the page start just before it, if it is not too far back."""
    tree = branches.tree_of(conversation.pk)
    path = branches.path_to(branches.leaf_of(conversation, tree), tree)
    if before_id is not None:
        path = path[:path.index(before_id)] if before_id in path else []
    ids = path[-PAGE_MESSAGES:]
    if showing_id in path and showing_id not in ids and len(path) - path.index(showing_id) <= PAGE_FROM_FOUND:
        ids = path[max(0, path.index(showing_id) - FOUND_CONTEXT):]
    loaded = {m.pk: m for m in Message.objects.filter(pk__in=ids).for_display()}
    return branches.with_versions([loaded[i] for i in ids if i in loaded], tree), len(path) > len(ids)


def message_in(*, conversation: Conversation, message_id: int) -> bool:
    return Message.objects.filter(pk=message_id, conversation=conversation).exists()


# --- messages --------------------------------------------------------------


def message_clean_text(text: object) -> str:
    if not isinstance(text, str):
        raise InvalidMessage("The message must be text.")
    if "\x00" in text:  # PostgreSQL cannot store it in a text column
        raise InvalidMessage("The message contains a null character (U+0000); remove it and send again.")
    text = text.strip()
    if not text:
        raise InvalidMessage("Type a message first: an empty message cannot be sent.")
    if len(text) > settings.MUSE_MAX_MESSAGE_CHARS:
        raise InvalidMessage(message_too_long(len(text)))
    return text


def message_too_long(length: int, *, at_least: bool = False) -> str:
    """Why a message over the limit is refused: one wording, whether the
    turn or the socket's frame limit finds it (``at_least``: only a lower
    bound of its length is known)."""
    size = f"more than {length:,}" if at_least else f"{length:,}"
    return (f"That message is {size} characters long; the limit is {settings.MUSE_MAX_MESSAGE_CHARS:,}. "
            "Shorten it or split it up, or attach it as a text file.")


def answer_reset(*, message: Message, conversation: Conversation, model: str | None = None) -> Message:
    """A failed or stopped answer made ready to run again, in place, with
    ``model`` (default: the conversation's model as it is now)."""
    model = configured_model(conversation.model if model is None else model)
    answers = Message.objects.filter(pk=message.pk)
    if model:
        answers.reset(model=model)
    else:
        answers.reset(model=model, status=Message.Status.ERROR, error=NO_MODEL_REASON, finished_at=timezone.now())
    message.refresh_from_db()
    return message


def answer_version(*, conversation: Conversation, of: Message, text: str | None = None) -> Message:
    """A new version of the answer ``of`` (the same question, the same
    model), shown from now on: streaming, or finished at once with ``text``
    (something already written made the answer); failed at once when its
    model is no longer configured. Inside the caller's transaction, the
    conversation locked."""
    model = configured_model(of.model)
    fields = dict(conversation=conversation, parent_id=of.parent_id, author=Message.Author.ASSISTANT,
                  with_instructions=of.with_instructions)
    if text is not None:
        version = Message.objects.create(**fields, status=Message.Status.DONE, content=text, model=of.model,
                                         finished_at=timezone.now())
    elif model:
        version = Message.objects.create(**fields, status=Message.Status.STREAMING, model=model)
    else:
        version = Message.objects.create(**fields, status=Message.Status.ERROR, error=NO_MODEL_REASON,
                                         finished_at=timezone.now())
    conversation.current_leaf = version
    conversation.save(update_fields=["current_leaf", "updated_at"])
    return version


def answer_finish(*, message_id: int, result: StreamResult) -> bool:
    """Save a finished quick answer (only while it is still streaming)."""
    return bool(Message.objects.filter(pk=message_id).finish_stream(result))


def answer_interrupted(*, message_id: int, text: str) -> Message | None:
    """Close an answer whose worker died (museapp/chat/reaping.py), keeping
    what was streamed; None if it had ended meanwhile."""
    if not Message.objects.filter(pk=message_id).interrupt(reason=INTERRUPTED_REASON, text=text):
        return None
    return Message.objects.select_related("conversation").filter(pk=message_id).first()


def conversation_lock(*, conversation: Conversation) -> Conversation:
    """Lock the conversation for a new turn (inside the caller's transaction);
    refused while one of its answers is still streaming."""
    conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
    if conversation.messages.filter(status=Message.Status.STREAMING).exists():
        raise InvalidMessage("Muse is still answering. Wait for it, or press Stop first.")
    return conversation


def conversation_name_from(*, conversation: Conversation, text: str) -> bool:
    """Give an untitled conversation its first message's gist as a title
    (the caller saves it, with the rest of the turn); True if it changed."""
    if conversation.title:
        return False
    conversation.title = _title_from(text)
    return True


FOLLOWS_THE_BRANCH_SHOWN = object()


def message_add(*, conversation: Conversation, text: str, parent: object = FOLLOWS_THE_BRANCH_SHOWN) -> Message:
    """The person's message, after ``parent`` (default: the end of the
    branch shown; None: as a new first message, an edited one)."""
    message = Message(conversation=conversation, author=Message.Author.USER, content=text)
    if parent is FOLLOWS_THE_BRANCH_SHOWN:
        message.parent_id = branches.shown_leaf(conversation)
    elif parent is None:
        message.starts_branch = True
    else:
        message.parent = parent
    message.save()
    return message


def answer_placeholder(*, conversation: Conversation, question: Message | None = None) -> Message:
    """The answer to ``question`` (default: the latest message) a turn
    starts: streaming, or failed at once when no model is configured."""
    model = configured_model(conversation.model)
    if not model:
        return Message.objects.create(
            conversation=conversation,
            parent=question,
            author=Message.Author.ASSISTANT,
            status=Message.Status.ERROR,
            error=NO_MODEL_REASON,
            finished_at=timezone.now(),
        )
    return Message.objects.create(
        conversation=conversation,
        parent=question,
        author=Message.Author.ASSISTANT,
        status=Message.Status.STREAMING,
        model=model,
        with_instructions=bool(preferences_for(user_id=conversation.user_id).instructions),
    )


def _title_from(text: str) -> str:
    line = " ".join(text.split())
    if len(line) <= TITLE_LENGTH:
        return line
    return line[: TITLE_LENGTH - 1].rsplit(" ", 1)[0].rstrip() + "…"


# --- a person's preferences (the Settings page) ------------------------------


def preferences_for(*, user_id: int) -> Preferences:
    """The person's saved preferences, or unsaved defaults: reading never
    writes a row, so only people who change something have one."""
    return Preferences.objects.filter(user_id=user_id).first() or Preferences(user_id=user_id)


PREFERENCE_FIELDS = ("compare_answers", "about_me", "answer_style", "instructions_on", "contemplate_new_chats")


def preferences_update(*, user, **changes) -> Preferences:
    """Save the named preferences (PREFERENCE_FIELDS); the custom
    instructions are at most Preferences.INSTRUCTIONS_MAX_CHARS each."""
    unknown = set(changes) - set(PREFERENCE_FIELDS)
    if unknown:
        raise InvalidMessage(f"Unknown settings: {', '.join(sorted(unknown))}.")
    for name in ("about_me", "answer_style"):
        if len(changes.get(name) or "") > Preferences.INSTRUCTIONS_MAX_CHARS:
            raise InvalidMessage(f"Instructions are at most {Preferences.INSTRUCTIONS_MAX_CHARS:,} characters.")
    preferences, _ = Preferences.objects.update_or_create(user=user, defaults=changes)
    return preferences
