from django.conf import settings
from django.db import models

from museapp.agents.models import AgentRun
from museapp.chat.models import Message

UP_REASONS = ["accurate", "helpful", "clear", "creative"]
DOWN_REASONS = ["wrong", "unhelpful", "too long", "missed the question", "unsafe"]
COMMENT_MAX = 1000
# Insights and exports show every person's prompts and answers: they need this
# permission (superusers have it), which migration 0002 grants to the group.
EXPORT_PERMISSION = "feedback.export_feedback"
ANALYSTS_GROUP = "Muse analysts"


class Rating(models.Model):
    """A person's thumbs up (+1) or down (-1) on an answer; one per person
    per answer, enforced by the database."""

    # A stopped answer is rated like a finished one: the answers people stop
    # are the ones they most have something to say about.
    RATEABLE = (Message.Status.DONE, Message.Status.STOPPED)

    class Value(models.IntegerChoices):
        UP = 1, "Thumbs up"
        DOWN = -1, "Thumbs down"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="ratings")
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="ratings")
    value = models.SmallIntegerField(choices=Value.choices)
    reasons = models.JSONField(default=list, blank=True)
    comment = models.TextField(blank=True, max_length=COMMENT_MAX)
    explained = models.BooleanField(default=False, help_text="feedback sent: the reasons fold to 'Thanks · Edit'")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "message"], name="one_rating_per_user_and_answer"),
            models.CheckConstraint(condition=models.Q(value__in=[1, -1]), name="rating_is_up_or_down"),
        ]
        indexes = [models.Index(fields=["created_at"])]
        permissions = [("export_feedback", "Can export feedback and see insights")]

    def __str__(self) -> str:
        return f"{self.get_value_display()} on message {self.message_id}"

    @property
    def is_up(self) -> bool:
        return self.value == self.Value.UP

    @property
    def reason_choices(self) -> list[str]:
        return UP_REASONS if self.is_up else DOWN_REASONS


class BestDraftPick(models.Model):
    """Which agent's draft a person preferred for a contemplated answer."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="draft_picks")
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="draft_picks")
    run = models.ForeignKey(AgentRun, on_delete=models.CASCADE, related_name="picks")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "message"], name="one_best_draft_per_user_and_answer"),
        ]

    def __str__(self) -> str:
        return f"best draft {self.run_id} for message {self.message_id}"
