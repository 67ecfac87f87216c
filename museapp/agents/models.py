from django.core.exceptions import ObjectDoesNotExist
from django.db import models

from museapp.agents import strategies
from museapp.chat.models import Message
from museapp.streams.names import Stream
from museapp.streams.records import RunRecord, RunRecordQuerySet
from museapp.streams.run import StreamStatus


class Contemplation(models.Model):
    """One contemplated answer: N agents drafted in parallel, then a merge.
    A later version of the answer made from the same drafts ("Use this
    draft", "Merge again") has its own contemplation, the drafts copied."""

    class Origin(models.TextChoices):
        TURN = "", "the turn's own"
        DRAFT_CHOSEN = "draft_chosen", "a draft chosen by the person"
        MERGED_AGAIN = "merged_again", "merged again"

    class EarlyStop(models.TextChoices):
        AGREEMENT = "agreement"  # the drafts still running could no longer change the majority answer
        QUORUM = "quorum"  # MUSE_QUORUM drafts had finished; the rest were cut off

    class Status(models.TextChoices):
        THINKING = "thinking"
        MERGING = "merging"
        DONE = "done"
        FAILED = "failed"
        STOPPED = "stopped"

    message = models.OneToOneField(Message, on_delete=models.CASCADE, related_name="contemplation")
    strategy = models.CharField(max_length=16, choices=strategies.choices())
    auto = models.BooleanField(default=False,
                               help_text="started because the quick answer was unsure (Contemplating: Auto)")
    strategy_used = models.CharField(max_length=16, blank=True, help_text="after fallbacks, e.g. vote -> select")
    agent_count = models.PositiveSmallIntegerField()
    deadline_s = models.FloatField()
    quorum = models.PositiveSmallIntegerField(default=0, help_text="merge once this many drafts finished (0: all)")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.THINKING)
    agreement = models.PositiveSmallIntegerField(null=True, blank=True, help_text="drafts that agree with the answer")
    relied_on = models.JSONField(default=list, blank=True, help_text="agent indexes the merge kept")
    tally = models.JSONField(default=dict, blank=True, help_text="vote: answer -> count")
    merge_note = models.TextField(blank=True, help_text="the judge's one-line reason, or the vote")
    judge_fallback = models.CharField(
        max_length=80, blank=True,
        help_text="why the judge's text was not shown, the best draft instead (\"named the drafts\"); blank: it was")
    draft_letters = models.JSONField(default=dict, blank=True, help_text="agent index -> Draft letter the judge saw")
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    wall_ms = models.FloatField(null=True, blank=True)
    early_stop = models.CharField(max_length=16, choices=EarlyStop.choices, blank=True,
                                  help_text="why agents still drafting were stopped before the merge")
    saved_tokens = models.PositiveIntegerField(null=True, blank=True, help_text="estimated, by stopping early")
    drafts_failed = models.PositiveSmallIntegerField(null=True, blank=True)
    drafts_cut_off = models.PositiveSmallIntegerField(null=True, blank=True)
    draft_used = models.PositiveSmallIntegerField(null=True, blank=True,
                                                  help_text="the agent whose draft the person made the answer")
    merged_text = models.TextField(blank=True, help_text="the merge's own answer, kept once a draft replaced it")
    judge_model = models.CharField(max_length=200, blank=True,
                                   help_text="picked in the strategy menu; blank: MUSE_MERGE_MODEL or the answer's")
    origin = models.CharField(max_length=16, choices=Origin.choices, blank=True, default=Origin.TURN,
                              help_text="how this version of the answer was made from its drafts")

    class Meta:
        indexes = [  # the reaper's look for contemplations not yet merged
            models.Index(fields=["started_at"], condition=models.Q(status__in=["thinking", "merging"]),
                         name="contemplation_open"),
        ]

    def __str__(self) -> str:
        return f"contemplation of message {self.message_id}"

    @property
    def agent_runs(self) -> list["AgentRun"]:
        return [run for run in self.runs.all() if run.kind == AgentRun.Kind.AGENT]

    @property
    def is_drafting(self) -> bool:
        """Its agents are drafting (the merge has not started)."""
        return self.status == self.Status.THINKING

    @property
    def drafts_done(self) -> int:
        """Agents no longer drafting (finished, failed, stopped or cut off)."""
        return sum(not run.is_running for run in self.agent_runs)

    @property
    def has_ended(self) -> bool:
        """Merged, failed or stopped: no longer drafting or merging."""
        return self.status in (self.Status.DONE, self.Status.FAILED, self.Status.STOPPED)

    @property
    def can_merge_again(self) -> bool:
        """What "Merge again" needs: ended, no agent drafting, a draft to merge, no comparison pending."""
        runs = self.agent_runs
        return (self.has_ended and not self.is_blind and not any(run.is_running for run in runs)
                and any(run.status in AgentRun.MERGEABLE and run.text.strip() for run in runs))

    @property
    def relied_on_runs(self) -> list["AgentRun"]:
        return [run for run in self.agent_runs if run.index in (self.relied_on or [])]

    @property
    def drafts_lost(self) -> int:
        """Drafts the merge went without: failed, or cut off unfinished."""
        return (self.drafts_failed or 0) + (self.drafts_cut_off or 0)

    @property
    def drafts_merged(self) -> int:
        stopped_early = (self.early_stop == self.EarlyStop.AGREEMENT
                         and sum(run.status == AgentRun.Status.STOPPED for run in self.agent_runs))
        return self.agent_count - self.drafts_lost - (stopped_early or 0)

    @property
    def degraded_note(self) -> str:
        """"merged from 2 of 4 (1 failed, 1 cut off)", when drafts were lost."""
        if not self.drafts_lost:
            return ""
        parts = [f"{count} {what}" for count, what in ((self.drafts_failed, "failed"), (self.drafts_cut_off, "cut off"))
                 if count]
        return f"merged from {self.drafts_merged} of {self.agent_count} ({', '.join(parts)})"

    @property
    def early_stop_note(self) -> str:
        """"stopped early: 3 of 4 agreed · saved ~1,200 tokens"."""
        if self.early_stop == self.EarlyStop.AGREEMENT:
            note = f"stopped early: {self.agreement or self.drafts_merged} of {self.agent_count} agreed"
        elif self.early_stop == self.EarlyStop.QUORUM:
            note = f"merged at the quorum: {self.drafts_merged} of {self.agent_count} finished"
        else:
            return ""
        return note + (f" · saved ~{self.saved_tokens:,} tokens" if self.saved_tokens else "")

    @property
    def judge_run(self) -> "AgentRun | None":
        """The merge's judge call, when the merge made one."""
        return next((run for run in self.runs.all() if run.kind == AgentRun.Kind.MERGE and run.model), None)

    @property
    def judge_own_drafts(self) -> int:
        """How many drafts the judge's own model wrote: a judge grading its own
        work is said so under the answer, never left unseen."""
        judge = self.judge_run
        return sum(run.model == judge.model for run in self.agent_runs) if judge else 0

    @property
    def comparison_or_none(self) -> "Comparison | None":
        try:
            return self.comparison
        except ObjectDoesNotExist:
            return None

    @property
    def is_blind(self) -> bool:
        """A comparison is still to be made: nothing may say which answer is
        the contemplated one (not the drafts, the tally or the stats)."""
        comparison = self.comparison_or_none
        return (comparison is not None and comparison.is_blind
                and self.status not in (self.Status.FAILED, self.Status.STOPPED))

    @property
    def blind_state(self) -> str:
        """"drafting", "waiting" (the merge is done, the quick answer not
        yet), "ready" (both done: choose), or "" (no comparison to make)."""
        if not self.is_blind:
            return ""
        if self.status != self.Status.DONE:
            return "drafting"
        return "waiting" if self.comparison.quick_run.is_running else "ready"

    @property
    def plain_summary(self) -> str:
        """The merge in one sentence, in a person's words ("Mostly from the
        Skeptic's draft; 3 of 4 agree."); the mechanics go under Details."""
        used = self.draft_used_run
        if used is not None:
            return f"You made the {used.role}'s draft the answer."
        if self.status != self.Status.DONE:
            return ""
        if self.judge_fallback:
            shown = self.relied_on_runs
            whose = f" (the {shown[0].role}'s)" if shown else ""
            return f"The judge's text {self.judge_fallback}, so the best draft is shown{whose}."
        if self.strategy_used == strategies.UNANIMOUS:
            agreeing = self.agreement or self.drafts_merged
            if agreeing == self.agent_count:
                return f"All {self.agent_count} drafts agree, so no judge was needed."
            return f"The {agreeing} drafts that finished agree, so no judge was needed."
        agree = f"; {self.agreement} of {self.agent_count} agree" if self.agreement is not None else ""
        relied = self.relied_on_runs
        if len(relied) == 1:
            return f"Mostly from the {relied[0].role}'s draft{agree}."
        if relied and self.wrote_new_answer:
            return f"Written from {len(relied)} of the drafts{agree}."
        if relied:
            return f"The answer most drafts gave{agree}."
        return f"Merged from {self.drafts_merged} drafts."

    @property
    def version_label(self) -> str:
        """What this version of the answer is, said beside its version controls."""
        used = self.draft_used_run
        if used is not None:
            return f"Draft by the {used.role}, chosen by you"
        return "Merged again" if self.origin == self.Origin.MERGED_AGAIN else "Merged"

    @property
    def merge_run(self) -> "AgentRun | None":
        """The merge's own row (a judge's call, or the vote), once it has ended."""
        return next((run for run in self.runs.all() if run.kind == AgentRun.Kind.MERGE), None)

    @property
    def wrote_new_answer(self) -> bool:
        """The judge wrote the answer (a synthesis), rather than it being one draft as written."""
        used = strategies.STRATEGIES.get(self.strategy_used)
        return bool(used and used.writes_new_answer)

    @property
    def draft_used_run(self) -> "AgentRun | None":
        return next((run for run in self.agent_runs if run.index == self.draft_used), None)

    def letter_of(self, run: "AgentRun") -> str:
        return (self.draft_letters or {}).get(str(run.index), "")


class AgentRun(RunRecord):
    """One model call of a contemplation: an agent's draft, or the merge."""

    class Kind(models.TextChoices):
        AGENT = "agent"
        MERGE = "merge"
        QUICK = "quick"  # compare mode's quick answer, blind: exactly the call quick mode makes, never a panel

    class Status(models.TextChoices):
        THINKING = "thinking"
        DONE = "done"
        FAILED = "failed"
        CUT_OFF = "cut_off", "cut off"
        STOPPED = "stopped"

    contemplation = models.ForeignKey(Contemplation, on_delete=models.CASCADE, related_name="runs")
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.AGENT)
    index = models.PositiveSmallIntegerField()
    role = models.CharField(max_length=64)
    model = models.CharField(max_length=200)
    temperature = models.FloatField(null=True, blank=True)
    text = models.TextField(blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.THINKING)
    started_at = models.DateTimeField(auto_now_add=True)

    objects = RunRecordQuerySet.as_manager()

    RUNNING = Status.THINKING
    # Drafts a merge can use: finished ones first; partial ones (cut off, or
    # stopped by the person) only when none finished.
    MERGEABLE = (Status.DONE, Status.CUT_OFF, Status.STOPPED)
    TEXT_FIELD = "text"
    STATUS_FOR = {
        StreamStatus.DONE: Status.DONE,
        StreamStatus.ERROR: Status.FAILED,
        StreamStatus.STOPPED: Status.STOPPED,
        StreamStatus.CUT_OFF: Status.CUT_OFF,
    }

    class Meta:
        ordering = ["kind", "index"]
        constraints = [
            models.UniqueConstraint(fields=["contemplation", "kind", "index"], name="one_run_per_slot")
        ]
        indexes = [  # the reaper's look for agents still drafting
            models.Index(fields=["started_at"], condition=models.Q(status="thinking"), name="agentrun_thinking"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.index} ({self.role})"

    @property
    def stream(self) -> Stream:
        return Stream.agent(self.pk)


class Comparison(models.Model):
    """A blind side by side of a contemplated answer and one quick answer to
    the same turn, in an order drawn when the turn started; the person's
    choice, and what was compared as it stood when they chose (the answers
    may change afterwards: the choice, "Use this draft", "Merge again")."""

    class Choice(models.TextChoices):
        CONTEMPLATED = "contemplated"
        QUICK = "quick"
        SAME = "same", "About the same"
        SKIPPED = "skipped"

    contemplation = models.OneToOneField(Contemplation, on_delete=models.CASCADE, related_name="comparison")
    quick_run = models.OneToOneField(AgentRun, on_delete=models.CASCADE, related_name="+")
    contemplated_position = models.PositiveSmallIntegerField(help_text="1 or 2: where the contemplated answer is shown")
    choice = models.CharField(max_length=16, choices=Choice.choices, blank=True)
    chosen_at = models.DateTimeField(null=True, blank=True)
    contemplated_chars = models.PositiveIntegerField(null=True, blank=True)
    quick_chars = models.PositiveIntegerField(null=True, blank=True)
    contemplated_tokens = models.PositiveIntegerField(null=True, blank=True)
    quick_tokens = models.PositiveIntegerField(null=True, blank=True)
    contemplated_cost = models.DecimalField(max_digits=12, decimal_places=8, null=True, blank=True)
    quick_cost = models.DecimalField(max_digits=12, decimal_places=8, null=True, blank=True)
    contemplated_ms = models.FloatField(null=True, blank=True)
    quick_ms = models.FloatField(null=True, blank=True)
    strategy = models.CharField(max_length=16, blank=True, help_text="the merge's strategy, after fallbacks")
    agent_count = models.PositiveSmallIntegerField(null=True, blank=True)
    agreement = models.PositiveSmallIntegerField(null=True, blank=True)
    judge_model = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(contemplated_position__in=[1, 2]),
                                   name="comparison_position_is_1_or_2"),
        ]
        indexes = [models.Index(fields=["chosen_at"], condition=~models.Q(choice=""), name="comparison_chosen")]

    def __str__(self) -> str:
        return f"comparison of {self.contemplation}"

    @property
    def quick_position(self) -> int:
        return 3 - self.contemplated_position

    @property
    def is_chosen(self) -> bool:
        return bool(self.choice)

    @property
    def is_void(self) -> bool:
        """The quick answer failed, was stopped or came back empty: nothing to compare."""
        quick = self.quick_run
        return quick.status != AgentRun.Status.THINKING and (quick.status != AgentRun.Status.DONE
                                                            or not quick.text.strip())

    @property
    def is_blind(self) -> bool:
        return not self.is_chosen and not self.is_void

    @property
    def is_preference(self) -> bool:
        """Chosen, and not skipped: a preference the insights count."""
        return self.is_chosen and self.choice != self.Choice.SKIPPED

    def choice_at(self, position: int) -> str:
        """What "Answer <position> is better" means."""
        return self.Choice.CONTEMPLATED if position == self.contemplated_position else self.Choice.QUICK
