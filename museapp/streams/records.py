"""The run record: what the database keeps of any run of a stream (an
answer, an agent's draft, the merge), and the one place where a stream's
outcome becomes those fields. Updates are conditional on the run still
running, so a late duplicate of a task can never overwrite a final record.
"""

from __future__ import annotations

from decimal import Decimal
from typing import ClassVar

from django.db import models
from django.utils import timezone

from museapp.llm.adapter import StreamStats
from museapp.streams.run import StreamResult, StreamStatus


USAGE_FIELDS = ("prompt_tokens", "completion_tokens", "cost", "ttft_ms", "total_ms", "confidence")


def usage_fields(stats: StreamStats | None) -> dict:
    """A stream's tokens, cost and timings as a run record's fields."""
    if stats is None:
        return {"prompt_tokens": 0, "completion_tokens": 0, "cost": Decimal(0), "ttft_ms": None, "total_ms": 0,
                "context_note": "", "confidence": None}
    return {
        "context_note": stats.context_note[:500],
        "prompt_tokens": stats.prompt_tokens,
        "completion_tokens": stats.completion_tokens,
        "cost": to_decimal(stats.cost),
        "ttft_ms": stats.ttft_ms,
        "total_ms": stats.total_ms,
        "confidence": stats.confidence,
    }


def to_decimal(cost: float | None) -> Decimal | None:
    return None if cost is None else Decimal(str(round(cost, 8)))


class RunRecordQuerySet(models.QuerySet):
    def running(self) -> RunRecordQuerySet:
        return self.filter(status=self.model.RUNNING)

    def finish(self, *, text: str, status: StreamStatus, error: str = "", usage: dict | None = None) -> int:
        """End the runs still running; returns how many."""
        if status == StreamStatus.CUT_OFF and not error:
            error = self.model.CUT_OFF_REASON
        return self.running().update(**{self.model.TEXT_FIELD: text}, status=self.model.status_for(status),
                                     error=error, finished_at=timezone.now(), **(usage or {}))

    def finish_stream(self, result: StreamResult) -> int:
        return self.finish(text=result.text, status=result.status, error=result.error,
                           usage=usage_fields(result.stats))

    def reset(self, **fields) -> int:
        """Make the runs ready to run again, in place: running, with no text,
        error, usage or end; ``fields`` sets more (a model, a start time) or
        overrides these."""
        cleared = {self.model.TEXT_FIELD: "", "status": self.model.RUNNING, "error": "", "finished_at": None,
                   "context_note": "", **dict.fromkeys(USAGE_FIELDS, None)}
        return self.update(**{**cleared, **fields})

    def interrupt(self, *, reason: str, text: str | None = None) -> int:
        """A run whose worker died: failed, keeping what was streamed."""
        kept = {} if text is None else {self.model.TEXT_FIELD: text}
        return self.running().update(**kept, status=self.model.status_for(StreamStatus.ERROR), error=reason,
                                     finished_at=timezone.now())


class RunRecord(models.Model):
    """Usage, outcome and timing of one run. Subclasses name their running
    status, their text field and how a stream's status reads for them."""

    RUNNING: ClassVar[str]
    TEXT_FIELD: ClassVar[str]
    STATUS_FOR: ClassVar[dict[StreamStatus, str]]
    CUT_OFF_REASON: ClassVar[str] = ""  # shown when a run ends past its deadline

    error = models.TextField(blank=True)
    prompt_tokens = models.PositiveIntegerField(null=True, blank=True)
    completion_tokens = models.PositiveIntegerField(null=True, blank=True)
    cost = models.DecimalField(max_digits=12, decimal_places=8, null=True, blank=True)
    ttft_ms = models.FloatField(null=True, blank=True)
    total_ms = models.FloatField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    context_note = models.CharField(max_length=500, blank=True, default="",
                                    help_text="what was cut of attached files to fit the model's window")
    confidence = models.FloatField(null=True, blank=True,
                                   help_text="mean log-probability of the last tokens, where the model gave them")

    class Meta:
        abstract = True

    @classmethod
    def status_for(cls, status: StreamStatus) -> str:
        return cls.STATUS_FOR[StreamStatus(status)]

    @property
    def is_running(self) -> bool:
        return self.status == self.RUNNING

    @property
    def total_tokens(self) -> int | None:
        if self.prompt_tokens is None and self.completion_tokens is None:
            return None
        return (self.prompt_tokens or 0) + (self.completion_tokens or 0)
