"""Everything of a person's as one JSON file ("Download my data"), built as
it is sent: their profile and preferences, every conversation they keep
(temporary chats are not kept) with its tree and contemplations, as the
conversation export writes each, and their ratings and best-draft picks.

Memory stays bounded: conversations are read a batch at a time through a
cursor (a server-side one on PostgreSQL), each batch with a fixed number of
queries (``with_trees``), written out and let go; ratings and picks follow,
read the same way. Nothing holds the whole file.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator

from django.utils import timezone

from museapp.chat.models import Conversation, Preferences, listed_filter
from museapp.chat.services import preferences_for
from museapp.exports.conversations import conversation_data, with_trees
from museapp.exports.rows import exported_fields, plain, row_of
from museapp.feedback.models import BestDraftPick, Rating

FORMAT = "muse.account"
VERSION = 1
CONVERSATIONS_PER_BATCH = 100  # a batch's messages are in memory at once
ROWS_PER_BATCH = 2000
PROFILE_FIELDS = ("username", "email", "first_name", "last_name", "date_joined", "last_login")
PREFERENCE_FIELDS = exported_fields(Preferences, without=("id", "user"))
RATING_FIELDS = exported_fields(Rating, without=("id", "user"))
PICK_FIELDS = exported_fields(BestDraftPick, without=("id", "user"))


def dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


def json_array(key: str, items: Iterable[dict], *, last: bool = False) -> Iterator[str]:
    """``"key": [item, item, ...]`` a line per item."""
    yield f"{dumps(key)}: ["
    for at, item in enumerate(items):
        yield ("\n" if at == 0 else ",\n") + dumps(item)
    yield "\n]" + ("\n}\n" if last else ",\n")


def head(user) -> str:
    """The file's opening, up to its first list."""
    fields = {
        "format": FORMAT, "version": VERSION, "exported_at": plain(timezone.now()),
        "profile": {name: plain(getattr(user, name)) for name in PROFILE_FIELDS},
        "preferences": row_of(preferences_for(user_id=user.pk), PREFERENCE_FIELDS),
    }
    return "{\n" + "".join(f"{dumps(key)}: {dumps(value)},\n" for key, value in fields.items())


def kept_conversations(user) -> Iterator[dict]:
    conversations = with_trees(Conversation.objects.listed().filter(user=user).order_by("pk"))
    for conversation in conversations.iterator(chunk_size=CONVERSATIONS_PER_BATCH):
        yield conversation_data(conversation)


def kept_rows(model, user, fields) -> Iterator[dict]:
    """The person's ratings (or picks) of answers in conversations they keep."""
    rows = model.objects.filter(listed_filter("message__conversation__"), user=user).order_by("pk")
    for row in rows.iterator(chunk_size=ROWS_PER_BATCH):
        yield row_of(row, fields)


def my_data_lines(*, user) -> Iterator[str]:
    """The file, a piece at a time (a conversation, a rating, ...)."""
    yield head(user)
    yield from json_array("conversations", kept_conversations(user))
    yield from json_array("ratings", kept_rows(Rating, user, RATING_FIELDS))
    yield from json_array("draft_picks", kept_rows(BestDraftPick, user, PICK_FIELDS), last=True)
