from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.db import models

from museapp.streams.names import Stream
from museapp.streams.records import RunRecord, RunRecordQuerySet
from museapp.streams.run import StreamStatus


INTERRUPTED_REASON = "Interrupted: the worker writing this answer stopped before it finished."


def listed_filter(through: str = "") -> models.Q:
    """The conversations a person keeps, seen from a related model
    (``listed_filter("message__conversation__")`` for ratings): a temporary
    chat is never listed, searched, exported or counted in insights."""
    return models.Q(**{f"{through}is_temporary": False})


class ConversationQuerySet(models.QuerySet):
    def listed(self) -> "ConversationQuerySet":
        """The conversations a person keeps (``listed_filter``)."""
        return self.filter(listed_filter())


class Conversation(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="conversations"
    )
    title = models.CharField(max_length=200, blank=True)
    model = models.CharField(max_length=200, blank=True, help_text="the picked model; blank: the default")
    contemplate = models.BooleanField(default=False, help_text="the Contemplating switch, remembered")
    agent_roster = models.CharField(
        max_length=300, blank=True, help_text="each agent's model, e.g. 2xA+2xB (museapp/agents/rosters.py); blank: the default")
    auto_contemplate = models.BooleanField(
        default=False, help_text="Contemplating: Auto, remembered: contemplate when the quick answer is unsure")
    merge_strategy = models.CharField(max_length=16, blank=True, help_text="blank: MUSE_MERGE_STRATEGY")
    judge_model = models.CharField(max_length=200, blank=True, help_text="the merge's judge; blank: the default")
    is_evaluation = models.BooleanField(default=False, help_text="asked by `manage.py evaluate`, not a person")
    is_temporary = models.BooleanField(
        default=False, help_text="a Temporary chat: unlisted, and deleted a day after its last message"
    )
    pinned_at = models.DateTimeField(null=True, blank=True, help_text="pinned to the top of the list; blank: not pinned")
    current_leaf = models.ForeignKey(
        "Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="the end of the branch shown; blank: the latest message",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ConversationQuerySet.as_manager()

    class Meta:
        ordering = ["-updated_at", "-id"]
        indexes = [
            models.Index(fields=["user", "-updated_at"]),
            # The expiry of temporary chats (few, in a big table).
            models.Index(fields=["updated_at"], condition=models.Q(is_temporary=True), name="conversation_temporary"),
        ]

    def __str__(self) -> str:
        return self.display_title

    @property
    def display_title(self) -> str:
        return self.title or "New chat"


class MessageQuerySet(RunRecordQuerySet):
    def for_display(self) -> "MessageQuerySet":
        """Everything the message partial shows, loaded up front (templates
        render in async consumers too, where a lazy query would fail)."""
        return self.select_related("contemplation").prefetch_related(
            "contemplation__runs", "contemplation__comparison__quick_run", "ratings", "draft_picks", "attachments"
        )


class Message(RunRecord):
    """A person's message, or an answer (a run record while it streams).

    Messages form a tree: each has the message it follows as its parent
    (none for a conversation's first). Messages with one parent are
    versions of each other: regenerated answers, edited questions. The
    conversation's current leaf says which branch is shown and read.
    """

    class Author(models.TextChoices):
        USER = "user"
        ASSISTANT = "assistant"

    class Status(models.TextChoices):
        STREAMING = "streaming"
        DONE = "done"
        ERROR = "error"
        STOPPED = "stopped"

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages"
    )
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="children",
        help_text="the message this one follows; blank: the conversation's first",
    )
    author = models.CharField(max_length=16, choices=Author.choices)
    content = models.TextField(blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DONE)
    model = models.CharField(max_length=200, blank=True)
    with_instructions = models.BooleanField(
        default=False, help_text="the person's custom instructions were in its system prompt"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = MessageQuerySet.as_manager()

    RUNNING = Status.STREAMING
    TEXT_FIELD = "content"
    STATUS_FOR = {
        StreamStatus.DONE: Status.DONE,
        StreamStatus.ERROR: Status.ERROR,
        StreamStatus.STOPPED: Status.STOPPED,
        StreamStatus.CUT_OFF: Status.ERROR,  # an answer past its deadline keeps its text, with the reason
    }
    CUT_OFF_REASON = "Cut off: this answer ran past Muse's time limit. What was written is kept; Retry runs it again."

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["conversation", "id"]),
            # The reaper's look for answers still streaming (few, in a big table).
            models.Index(fields=["created_at"], condition=models.Q(status="streaming"), name="message_streaming"),
        ]

    def __str__(self) -> str:
        return f"{self.author} #{self.pk}"

    def save(self, *args, **kwargs) -> None:
        """A new message without a parent follows the conversation's latest
        message, unless it starts the conversation anew (``starts_branch``:
        an edited first message)."""
        if self._state.adding and self.parent_id is None and not getattr(self, "starts_branch", False):
            self.parent_id = (Message.objects.filter(conversation_id=self.conversation_id)
                              .order_by("-id").values_list("id", flat=True).first())
        super().save(*args, **kwargs)

    def question_text(self) -> str:
        """An answer's question: the text of the message it follows ("" for none)."""
        return Message.objects.filter(pk=self.parent_id).values_list("content", flat=True).first() or ""

    @property
    def is_assistant(self) -> bool:
        return self.author == self.Author.ASSISTANT

    @property
    def stream(self) -> Stream:
        return Stream.answer(self.pk)

    @property
    def contemplation_or_none(self):
        """The contemplation behind this answer, if any (select_related it)."""
        try:
            return self.contemplation
        except ObjectDoesNotExist:
            return None


class Preferences(models.Model):
    """A person's own settings, the same in every conversation (the Settings
    page); a missing row means every default."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="muse_preferences"
    )
    INSTRUCTIONS_MAX_CHARS = 1500

    compare_answers = models.BooleanField(
        default=True, help_text="take part in blind comparisons (MUSE_COMPARE_RATE)"
    )
    about_me = models.TextField(blank=True, help_text="custom instructions: what Muse should know about the person")
    answer_style = models.TextField(blank=True, help_text="custom instructions: how Muse should answer")
    instructions_on = models.BooleanField(default=True, help_text="add the custom instructions to system prompts")
    contemplate_new_chats = models.BooleanField(default=False, help_text="new chats start with Contemplating on")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "preferences"

    def __str__(self) -> str:
        return f"preferences of user #{self.user_id}"

    @property
    def instructions(self) -> str:
        """What system prompts gain from the custom instructions: "" when
        they are off or empty."""
        if not self.instructions_on:
            return ""
        parts = [(title, text.strip()) for title, text in (
            ("About the person you are talking with, in their own words:", self.about_me),
            ("How they want you to answer, in their own words:", self.answer_style),
        ) if text.strip()]
        return "\n\n".join(f"{title}\n{text}" for title, text in parts)
