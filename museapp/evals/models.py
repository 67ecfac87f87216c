from django.db import models

from museapp.chat.models import Message


class EvalRun(models.Model):
    """One `manage.py evaluate`: problem sets asked under several conditions
    (quick, or a strategy with N agents) through Muse's own pipeline."""

    class Status(models.TextChoices):
        RUNNING = "running"
        DONE = "done"

    key = models.CharField(max_length=64, db_index=True, help_text="its settings' digest: a rerun resumes it")
    model = models.CharField(max_length=200)
    conditions = models.JSONField(help_text='e.g. ["quick", "consensus:4"]')
    sets = models.JSONField(help_text='e.g. ["arithmetic", "facts"]')
    n = models.PositiveIntegerField(help_text="problems per set (at most the set's size)")
    seed = models.IntegerField()
    settings = models.JSONField(default=dict, blank=True, help_text="the model settings in force (sampling, prompt)")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    report = models.JSONField(default=dict, blank=True, help_text="the figures, once done")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"evaluation {self.pk} of {self.model}"


class EvalItem(models.Model):
    """One problem under one condition: asked as a new conversation, then graded."""

    class Status(models.TextChoices):
        PENDING = "pending"  # not asked yet
        ASKED = "asked"  # its answer is in progress
        GRADED = "graded"

    run = models.ForeignKey(EvalRun, on_delete=models.CASCADE, related_name="items")
    condition = models.CharField(max_length=200)
    problem_set = models.CharField(max_length=32)
    problem_index = models.PositiveIntegerField()
    problem = models.JSONField(help_text="the problem as asked, with its accepted answers")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    message = models.ForeignKey(Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    answer_status = models.CharField(max_length=16, blank=True)
    answer = models.TextField(blank=True)
    extracted = models.CharField(max_length=200, blank=True)
    correct = models.BooleanField(null=True)
    prompt_tokens = models.PositiveIntegerField(null=True, blank=True)
    completion_tokens = models.PositiveIntegerField(null=True, blank=True)
    cost = models.DecimalField(max_digits=12, decimal_places=8, null=True, blank=True)
    wall_ms = models.FloatField(null=True, blank=True)
    drafts = models.PositiveSmallIntegerField(null=True, blank=True, help_text="drafts written (contemplating)")
    drafts_right = models.PositiveSmallIntegerField(null=True, blank=True)
    drafts_agree = models.BooleanField(null=True, help_text="every draft gave the same answer")
    strategy_used = models.CharField(max_length=16, blank=True)
    early_stop = models.CharField(max_length=16, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["run", "condition", "problem_set", "problem_index"],
                                    name="one_item_per_problem_and_condition"),
        ]

    def __str__(self) -> str:
        return f"{self.condition} {self.problem_set}#{self.problem_index}"
