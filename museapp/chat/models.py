from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.db import models


class Conversation(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="conversations"
    )
    title = models.CharField(max_length=200, blank=True)
    model = models.CharField(max_length=200, blank=True, help_text="the picked model; blank: the default")
    contemplate = models.BooleanField(default=False, help_text="the Contemplating switch, remembered")
    merge_strategy = models.CharField(max_length=16, blank=True, help_text="blank: MUSE_MERGE_STRATEGY")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        indexes = [models.Index(fields=["user", "-updated_at"])]

    def __str__(self) -> str:
        return self.display_title

    @property
    def display_title(self) -> str:
        return self.title or "New chat"


class MessageQuerySet(models.QuerySet):
    def for_display(self) -> "MessageQuerySet":
        """Everything the message partial shows, loaded up front (templates
        render in async consumers too, where a lazy query would fail)."""
        return self.select_related("contemplation").prefetch_related(
            "contemplation__runs", "ratings", "draft_picks"
        )


class Message(models.Model):
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
    author = models.CharField(max_length=16, choices=Author.choices)
    content = models.TextField(blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DONE)
    error = models.TextField(blank=True)
    model = models.CharField(max_length=200, blank=True)
    prompt_tokens = models.PositiveIntegerField(null=True, blank=True)
    completion_tokens = models.PositiveIntegerField(null=True, blank=True)
    cost = models.DecimalField(max_digits=12, decimal_places=8, null=True, blank=True)
    ttft_ms = models.FloatField(null=True, blank=True)
    total_ms = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = MessageQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["conversation", "id"]),
            # The reaper's look for answers still streaming (few, in a big table).
            models.Index(fields=["created_at"], condition=models.Q(status="streaming"), name="message_streaming"),
        ]

    def __str__(self) -> str:
        return f"{self.author} #{self.pk}"

    @property
    def is_assistant(self) -> bool:
        return self.author == self.Author.ASSISTANT

    @property
    def is_streaming(self) -> bool:
        return self.status == self.Status.STREAMING

    @property
    def total_tokens(self) -> int | None:
        if self.prompt_tokens is None and self.completion_tokens is None:
            return None
        return (self.prompt_tokens or 0) + (self.completion_tokens or 0)

    @property
    def contemplation_or_none(self):
        """The contemplation behind this answer, if any (select_related it)."""
        try:
            return self.contemplation
        except ObjectDoesNotExist:
            return None
