from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db import models

from museapp.chat.models import Conversation, Message


@dataclass(frozen=True)
class SharedDraft:
    role: str
    model: str
    text: str


@dataclass(frozen=True)
class SharedFile:
    """A file attached to a shared question: its name and size, not its bytes."""

    name: str
    size: int


@dataclass(frozen=True)
class SharedMessage:
    """One message of a snapshot, as the shared page shows it."""

    author: str
    content: str
    created_at: datetime
    status: str = ""
    model: str = ""
    drafts: list[SharedDraft] = field(default_factory=list)
    files: list[SharedFile] = field(default_factory=list)

    @property
    def is_assistant(self) -> bool:
        return self.author == Message.Author.ASSISTANT

    @classmethod
    def from_copy(cls, copy: dict) -> SharedMessage:
        return cls(author=copy["author"], content=copy["content"],
                   created_at=datetime.fromisoformat(copy["created_at"]),
                   status=copy.get("status", ""), model=copy.get("model", ""),
                   drafts=[SharedDraft(**draft) for draft in copy.get("drafts", [])],
                   files=[SharedFile(**file) for file in copy.get("files", [])])


class SharedLink(models.Model):
    """A read-only link to a snapshot of a conversation's branch shown.

    One per conversation: sharing again updates the snapshot behind the same
    link; "Stop sharing" deletes the row, so the link answers 404 at once.

    The token is kept in plain text (unique, so indexed): the person sees
    and copies their link again in Settings, which a hash would not allow,
    and whoever can read this table can read the snapshot beside it anyway.
    It is 32 random bytes (``secrets.token_urlsafe``): not guessable.
    """

    conversation = models.OneToOneField(Conversation, on_delete=models.CASCADE, related_name="shared_link")
    token = models.CharField(max_length=64, unique=True)
    title = models.CharField(max_length=200, help_text="the conversation's title when shared")
    messages = models.JSONField(
        default=list, help_text="the branch shown when shared: author, text, time, model (and drafts if chosen)"
    )
    include_drafts = models.BooleanField(default=False, help_text="the agents' drafts are part of the snapshot")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, help_text="when the snapshot was last taken")

    class Meta:
        ordering = ["-updated_at", "-id"]

    def __str__(self) -> str:
        return f"shared link of conversation {self.conversation_id}"

    @property
    def shown_messages(self) -> list[SharedMessage]:
        return [SharedMessage.from_copy(copy) for copy in self.messages]
