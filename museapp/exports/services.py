"""The downloads, counted against the person's browsing limit
(museapp/turns/limits.py): each reads a whole conversation, or all of them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

from django.utils.text import slugify

from museapp.chat.models import Conversation
from museapp.exports.conversations import conversation_export, with_trees
from museapp.exports.markdown import conversation_markdown
from museapp.exports.my_data import my_data_lines
from museapp.turns import limits

FORMATS = {  # name -> (file extension, content type)
    "markdown": ("md", "text/markdown; charset=utf-8"),
    "json": ("json", "application/json; charset=utf-8"),
}


@dataclass(frozen=True)
class Download:
    filename: str
    content_type: str
    body: str


def file_name(title: str, extension: str) -> str:
    """A name every system takes, from the title: letters, digits and dashes."""
    return f"{slugify(title, allow_unicode=True)[:80].strip('-_') or 'conversation'}.{extension}"


def conversation_download(*, conversation: Conversation, fmt: str) -> Download:
    """The conversation as a file in ``fmt`` (a FORMATS name), or RateLimited."""
    extension, content_type = FORMATS[fmt]
    limits.browse_charge(user_id=conversation.user_id)
    if fmt == "json":
        body = json.dumps(conversation_export(conversation=conversation), ensure_ascii=False, indent=1) + "\n"
    else:
        body = conversation_markdown(with_trees(Conversation.objects.filter(pk=conversation.pk)).get())
    return Download(file_name(conversation.display_title, extension), content_type, body)


def my_data_download(*, user) -> Iterator[str]:
    """Everything of the person's, as the pieces of one JSON file; or RateLimited."""
    limits.browse_charge(user_id=user.pk)
    return my_data_lines(user=user)
