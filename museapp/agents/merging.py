"""The merge: its plan read from the database, the drafts merged by the
contemplation's strategy (museapp/agents/strategies/, on the worker's event
loop, no database), and the verdict saved with the answer."""

from __future__ import annotations

import time

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from museapp.agents import merge, strategies
from museapp.agents.models import AgentRun, Contemplation
from museapp.agents.starting import default_strategy
from museapp.agents.strategies.base import JUDGE_TEMPERATURE, MergePlan, MergeResult
from museapp.chat.context import instructions_for, question_files
from museapp.chat.models import Message
from museapp.llm.adapter import history_chars
from museapp.streams import stopping
from museapp.streams.records import usage_fields
from museapp.streams.run import StreamStatus


def merge_plan(*, contemplation_id: int) -> MergePlan:
    contemplation = (Contemplation.objects.select_related("message__conversation", "comparison__quick_run")
                     .get(pk=contemplation_id))
    message = contemplation.message
    runs = list(contemplation.runs.filter(kind=AgentRun.Kind.AGENT))
    usable = [r for r in runs if r.status in AgentRun.MERGEABLE and r.text.strip()]
    # Finished drafts first; partials (cut off, or stopped: "Merge what's there") only when nothing finished.
    finished = [r for r in usable if r.status == AgentRun.Status.DONE] or usable
    question = message.question_text()
    model = contemplation.judge_model or settings.MUSE_MERGE_MODEL or message.model
    return MergePlan(
        contemplation_id=contemplation.pk,
        message_id=message.pk,
        conversation_id=message.conversation_id,
        owner_id=message.conversation.user_id,
        # A strategy whose module has gone since the turn started: the default merges instead.
        strategy=(contemplation.strategy if contemplation.strategy in strategies.STRATEGIES
                  else default_strategy(message.model)),
        question=question,
        drafts=[merge.Draft(r.index, r.role, r.text, r.confidence) for r in finished],
        failures=[f"{r.role}: {r.error}" for r in runs if r.status == AgentRun.Status.FAILED and r.error],
        model=model,
        started=contemplation.started_at.timestamp(),
        seed=contemplation.pk,
        deadline=time.time() + settings.MUSE_MERGE_DEADLINE,
        publish=not contemplation.is_blind,
        instructions=instructions_for(message.pk),
        files=question_files(message.pk, model, max_chars=history_chars(model)),
        again=contemplation.origin == Contemplation.Origin.MERGED_AGAIN,
    )


async def merge_run(plan: MergePlan) -> MergeResult:
    if await stopping.is_requested(plan.stream):
        return MergeResult("", StreamStatus.STOPPED, note="Stopped before the merge.")
    if not plan.drafts:
        # One plain sentence, then the first agent's own reason (already a sentence).
        detail = plan.failures[0].split(": ", 1)[-1] if plan.failures else "Try again."
        return MergeResult("", StreamStatus.ERROR, error=f"Every agent failed, so there was nothing to merge. {detail}")
    return await strategies.STRATEGIES[plan.strategy].run(plan)


CONTEMPLATION_STATUS = {StreamStatus.DONE: Contemplation.Status.DONE, StreamStatus.STOPPED: Contemplation.Status.STOPPED}


@transaction.atomic
def merge_finish(*, plan: MergePlan, result: MergeResult) -> None:
    """Save the merge's row, the contemplation's verdict and the answer (with
    the whole contemplation's tokens, cost and time; merged again, with the
    merge's own, the contemplation keeping the time of its drafts)."""
    _save_merge_run(plan, result)
    wall_ms = (time.time() - plan.started) * 1000
    Contemplation.objects.filter(pk=plan.contemplation_id).update(
        **({} if plan.again else {"wall_ms": wall_ms}),
        status=CONTEMPLATION_STATUS.get(result.status, Contemplation.Status.FAILED),
        strategy_used=result.strategy_used,
        agreement=result.agreement,
        relied_on=sorted(result.relied_on),
        tally=result.tally,
        merge_note=result.note,
        judge_fallback=result.fallback,
        draft_letters={str(index): letter for index, letter in result.letters.items()},
        finished_at=timezone.now(),
        **_draft_outcomes(plan.contemplation_id),
    )
    # The quick answer of a comparison is not part of what contemplating cost.
    runs = AgentRun.objects.filter(contemplation_id=plan.contemplation_id).exclude(kind=AgentRun.Kind.QUICK)
    if plan.again:  # the drafts were paid for by the version they were written for
        runs = runs.filter(kind=AgentRun.Kind.MERGE)
    totals = runs.aggregate(
        prompt_tokens=Sum("prompt_tokens"), completion_tokens=Sum("completion_tokens"), cost=Sum("cost"))
    # What the agents (or the judge) could not read of the files, said once for the answer.
    totals["context_note"] = runs.exclude(context_note="").values_list("context_note", flat=True).first() or ""
    ttft_ms = (result.first_token_at - plan.started) * 1000 if result.first_token_at else None
    Message.objects.filter(pk=plan.message_id).finish(
        text=result.text, status=result.status, error=result.error,
        usage={**totals, "ttft_ms": ttft_ms, "total_ms": wall_ms})


def _draft_outcomes(contemplation_id: int) -> dict:
    """How many drafts the merge went without (failed, cut off), and the
    tokens an early stop saved: what each stopped agent had still to write,
    estimated by the finished drafts' mean length."""
    runs = list(AgentRun.objects.filter(contemplation_id=contemplation_id, kind=AgentRun.Kind.AGENT)
                .values_list("status", "completion_tokens", "contemplation__early_stop"))
    done = [tokens or 0 for status, tokens, _ in runs if status == AgentRun.Status.DONE]
    early = [tokens or 0 for status, tokens, _ in runs
             if status in (AgentRun.Status.STOPPED, AgentRun.Status.CUT_OFF)]
    typical = sum(done) / len(done) if done else 0
    stopped_early = any(early_stop for _, _, early_stop in runs)
    return {
        "drafts_failed": sum(status == AgentRun.Status.FAILED for status, _, _ in runs),
        "drafts_cut_off": sum(status == AgentRun.Status.CUT_OFF for status, _, _ in runs),
        "saved_tokens": round(sum(max(typical - tokens, 0) for tokens in early)) if stopped_early else None,
    }


def _save_merge_run(plan: MergePlan, result: MergeResult) -> None:
    """The merge's own row: the judge's call, or the vote (no call)."""
    judge = result.judge
    AgentRun.objects.update_or_create(
        contemplation_id=plan.contemplation_id, kind=AgentRun.Kind.MERGE, index=0,
        defaults=dict(
            role="Judge" if judge else "Vote", model=plan.model if judge else "",
            temperature=JUDGE_TEMPERATURE if judge else None,
            text=(judge.header + "\n" + judge.text).strip() if judge else result.note,
            status=AgentRun.status_for(result.status), error=result.error,
            finished_at=timezone.now(), **usage_fields(judge.stats if judge else None),
        ),
    )
