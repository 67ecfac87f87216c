"""Contemplation: fan a question out to diverse agents, then merge honestly.

The plain functions here own the database; the async ones (``*_run``) own the
model calls and frames and touch no database, so they run on the worker's
event loop. museapp/agents/tasks.py strings them together.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from museapp.agents import merge, roles
from museapp.agents.models import AgentRun, Contemplation
from museapp.chat import events, streaming
from museapp.chat.models import Conversation, Message
from museapp.chat.services import INTERRUPTED_REASON
from museapp.llm.adapter import ModelCall
from museapp.llm.config import model_call

log = logging.getLogger(__name__)

STRATEGIES = {choice.value for choice in Contemplation.Strategy}


def default_strategy() -> str:
    strategy = settings.MUSE_MERGE_STRATEGY
    return strategy if strategy in STRATEGIES else Contemplation.Strategy.SYNTHESIZE


def strategy_for(conversation: Conversation) -> str:
    return conversation.merge_strategy if conversation.merge_strategy in STRATEGIES else default_strategy()


@dataclass
class AgentJob:
    run_id: int
    call: ModelCall


@dataclass
class ContemplationStart:
    contemplation: Contemplation
    jobs: list[AgentJob]
    deadline: float  # time.time()


def contemplation_start(*, conversation: Conversation, answer: Message,
                        context: list[dict[str, str]]) -> ContemplationStart:
    """Create the contemplation and its agents' rows (inside the caller's
    transaction) and the calls the agents will make."""
    count = roles.agent_count()
    models = roles.agent_models(count, answer.model)
    temperatures = roles.temperature_ladder(count)
    contemplation = Contemplation.objects.create(
        message=answer,
        strategy=strategy_for(conversation),
        agent_count=count,
        deadline_s=settings.MUSE_CONTEMPLATE_DEADLINE,
    )
    base = context[0]["content"] if context and context[0]["role"] == "system" else settings.MUSE_SYSTEM_PROMPT
    turns = [m for m in context if m["role"] != "system"]
    jobs = []
    for index in range(count):
        role = roles.ROLES[index % len(roles.ROLES)]
        run = AgentRun.objects.create(
            contemplation=contemplation, index=index, role=role.name,
            model=models[index], temperature=temperatures[index],
        )
        messages = [{"role": "system", "content": roles.system_prompt(role, base)}, *turns]
        jobs.append(AgentJob(run.pk, model_call(model=models[index], messages=messages,
                                                temperature=temperatures[index])))
    return ContemplationStart(contemplation, jobs, time.time() + contemplation.deadline_s)


# --- agents -----------------------------------------------------------------


async def agent_run(*, run_id: int, conversation_id: int, call: ModelCall,
                    deadline: float) -> streaming.StreamResult:
    return await streaming.run_stream(
        stream=events.agent_stream(run_id), conversation_id=conversation_id, call=call, deadline=deadline
    )


AGENT_STATUS = {
    streaming.DONE: AgentRun.Status.DONE,
    streaming.ERROR: AgentRun.Status.FAILED,
    streaming.STOPPED: AgentRun.Status.STOPPED,
    streaming.CUT_OFF: AgentRun.Status.CUT_OFF,
}


def agent_finish(*, run_id: int, result: streaming.StreamResult) -> None:
    stats = result.stats
    AgentRun.objects.filter(pk=run_id, status=AgentRun.Status.THINKING).update(
        text=result.text,
        status=AGENT_STATUS[result.status],
        error=result.error,
        prompt_tokens=stats.prompt_tokens,
        completion_tokens=stats.completion_tokens,
        cost=_decimal(stats.cost),
        ttft_ms=stats.ttft_ms,
        total_ms=stats.total_ms,
        finished_at=timezone.now(),
    )


def agent_fail(*, run_id: int, reason: str) -> None:
    AgentRun.objects.filter(pk=run_id, status=AgentRun.Status.THINKING).update(
        status=AgentRun.Status.FAILED, error=reason, finished_at=timezone.now()
    )


AGENT_INTERRUPTED = "Interrupted: the worker running this agent stopped."


def agent_interrupted(*, run_id: int, text: str) -> AgentRun | None:
    """An agent whose worker died (museapp/ops/reaper.py): failed, keeping
    its partial draft; None if it had ended meanwhile."""
    updated = AgentRun.objects.filter(pk=run_id, status=AgentRun.Status.THINKING).update(
        status=AgentRun.Status.FAILED, text=text, error=AGENT_INTERRUPTED, finished_at=timezone.now()
    )
    return AgentRun.objects.select_related("contemplation__message").get(pk=run_id) if updated else None


@transaction.atomic
def merge_interrupted(*, contemplation_id: int) -> Message | None:
    """A merge whose worker died: the answer ends as interrupted (Retry runs
    the whole contemplation again)."""
    contemplation = Contemplation.objects.select_for_update().select_related("message").get(pk=contemplation_id)
    updated = Message.objects.filter(pk=contemplation.message_id, status=Message.Status.STREAMING).update(
        status=Message.Status.ERROR, error=INTERRUPTED_REASON, finished_at=timezone.now()
    )
    if not updated:
        return None
    Contemplation.objects.filter(pk=contemplation_id).update(
        status=Contemplation.Status.FAILED, finished_at=timezone.now()
    )
    return contemplation.message


@dataclass
class Settlement:
    """What to do after an agent ended: stop agents a vote no longer needs,
    and whether this caller won the right to start the merge."""

    stop_streams: list[str] = field(default_factory=list)
    merge: bool = False
    message_id: int | None = None


@transaction.atomic
def contemplation_settle(*, contemplation_id: int) -> Settlement:
    # The row lock makes agents that finish together settle one after the
    # other, so the last one sees every draft (and a locked vote is noticed).
    contemplation = Contemplation.objects.select_for_update().get(pk=contemplation_id)
    runs = list(contemplation.runs.filter(kind=AgentRun.Kind.AGENT))
    thinking = [r for r in runs if r.is_thinking]
    settlement = Settlement(message_id=contemplation.message_id)
    if thinking and contemplation.strategy == Contemplation.Strategy.VOTE:
        answers = {r.index: merge.short_answer(r.text) for r in runs if r.status == AgentRun.Status.DONE}
        leader = merge.locked_majority(answers, len(thinking))
        if leader is not None:
            settlement.stop_streams = [events.agent_stream(r.pk) for r in thinking]
            log.info("contemplation %s: the vote is settled on %r; stopping %d agent(s)",
                     contemplation_id, leader, len(thinking))
    if not thinking:
        settlement.merge = merge_claim(contemplation_id=contemplation_id)
    return settlement


def merge_claim(*, contemplation_id: int) -> bool:
    """Exactly one caller wins: the merge runs once however agents race."""
    return bool(
        Contemplation.objects.filter(pk=contemplation_id, status=Contemplation.Status.THINKING)
        .update(status=Contemplation.Status.MERGING)
    )


# --- the merge ----------------------------------------------------------------


@dataclass
class MergePlan:
    contemplation_id: int
    message_id: int
    conversation_id: int
    strategy: str
    question: str
    drafts: list[merge.Draft]
    failures: list[str]
    model: str
    started: float  # time.time() of the contemplation's start
    seed: int


@dataclass
class MergeResult:
    text: str
    status: str  # a Message.Status
    error: str = ""
    strategy_used: str = ""
    relied_on: list[int] = field(default_factory=list)
    agreement: int | None = None
    tally: dict = field(default_factory=dict)
    note: str = ""
    letters: dict[int, str] = field(default_factory=dict)
    judge: streaming.StreamResult | None = None
    first_token_at: float | None = None  # time.time()


def merge_plan(*, contemplation_id: int) -> MergePlan:
    contemplation = Contemplation.objects.select_related("message").get(pk=contemplation_id)
    message = contemplation.message
    runs = list(contemplation.runs.filter(kind=AgentRun.Kind.AGENT))
    usable = [r for r in runs if r.status in (AgentRun.Status.DONE, AgentRun.Status.CUT_OFF) and r.text.strip()]
    # Finished drafts first; cut-off partials only when nothing finished.
    finished = [r for r in usable if r.status == AgentRun.Status.DONE] or usable
    question = (
        Message.objects.filter(conversation_id=message.conversation_id, author=Message.Author.USER,
                               pk__lt=message.pk).order_by("-pk").values_list("content", flat=True).first()
        or ""
    )
    return MergePlan(
        contemplation_id=contemplation.pk,
        message_id=message.pk,
        conversation_id=message.conversation_id,
        strategy=contemplation.strategy,
        question=question,
        drafts=[merge.Draft(r.index, r.role, r.text) for r in finished],
        failures=[f"{r.role}: {r.error}" for r in runs if r.status == AgentRun.Status.FAILED and r.error],
        model=settings.MUSE_MERGE_MODEL or message.model,
        started=contemplation.started_at.timestamp(),
        seed=contemplation.pk,
    )


async def merge_run(plan: MergePlan) -> MergeResult:
    from museapp.chat import stopping

    if await stopping.is_requested(events.message_stream(plan.message_id)):
        return MergeResult("", Message.Status.STOPPED, note="Stopped before the merge.")
    if not plan.drafts:
        detail = f" ({plan.failures[0]})" if plan.failures else ""
        return MergeResult("", Message.Status.ERROR, error=f"Every agent failed, so there is nothing to merge{detail}.")
    if plan.strategy == Contemplation.Strategy.VOTE:
        result = await _vote(plan)
        if result is not None:
            return result
        return await _select(plan, fallback_from="vote")
    if plan.strategy == Contemplation.Strategy.SELECT or len(plan.drafts) == 1:
        return await _select(plan)
    return await _synthesize(plan)


async def _vote(plan: MergePlan) -> MergeResult | None:
    answers = {d.index: merge.short_answer(d.text) for d in plan.drafts}
    winner = merge.vote_winner(answers)
    if winner is None:
        return None
    chosen = next(d for d in plan.drafts if answers[d.index] == winner)
    counts = merge.tally(answers)
    relied = [d.index for d in plan.drafts if answers[d.index] == winner]
    note = "Vote: " + ", ".join(f"{n}× {answer}" for answer, n in counts.most_common())
    await _show(plan, chosen.text)
    return MergeResult(chosen.text, Message.Status.DONE, strategy_used="vote", relied_on=relied,
                       agreement=counts[winner], tally=dict(counts), note=note, first_token_at=time.time())


async def _select(plan: MergePlan, fallback_from: str = "") -> MergeResult:
    lettered = merge.letter_drafts(plan.drafts, plan.seed)
    letters = {d.index: letter for letter, d in lettered.items()}
    call = _judge_call(plan, merge.select_prompt(plan.question, lettered))
    judge = await streaming.run_stream(stream=events.message_stream(plan.message_id) + "-judge",
                                       conversation_id=plan.conversation_id, call=call, publish=False)
    if judge.status == streaming.STOPPED:
        return MergeResult("", Message.Status.STOPPED, judge=judge, letters=letters)
    selection = merge.parse_selection(judge.text, lettered)
    prefix = "No draft had a short answer to vote on; " if fallback_from == "vote" else ""
    if selection is None:
        chosen = plan.drafts[0]
        why = judge.error or "its reply named no draft"
        return await _shown(plan, chosen.text, MergeResult(
            chosen.text, Message.Status.DONE, strategy_used="select", relied_on=[chosen.index],
            note=f"{prefix}the judge could not choose ({why}), so this is the {chosen.role}'s draft as written.",
            letters=letters, judge=judge))
    chosen = lettered[selection.letter]
    return await _shown(plan, chosen.text, MergeResult(
        chosen.text, Message.Status.DONE, strategy_used="select",
        relied_on=[lettered[letter].index for letter in selection.agree],
        agreement=len(selection.agree), letters=letters, judge=judge,
        note=f"{prefix}the judge chose Draft {selection.letter} ({chosen.role}): {selection.reason}".strip()))


async def _synthesize(plan: MergePlan) -> MergeResult:
    lettered = merge.letter_drafts(plan.drafts, plan.seed)
    letters = {d.index: letter for letter, d in lettered.items()}
    call = _judge_call(plan, merge.synthesize_prompt(plan.question, lettered))
    started = time.time()
    judge = await streaming.run_stream(stream=events.message_stream(plan.message_id),
                                       conversation_id=plan.conversation_id, call=call, hold_first_line=True)
    relied = [lettered[letter].index for letter in merge.parse_relied_on(judge.header, lettered)]
    if judge.status == streaming.ERROR and not judge.text:
        chosen = plan.drafts[0]
        return await _shown(plan, chosen.text, MergeResult(
            chosen.text, Message.Status.DONE, strategy_used="select", relied_on=[chosen.index], letters=letters,
            judge=judge, note=f"The judge failed ({judge.error}), so this is the {chosen.role}'s draft as written."))
    status = {streaming.DONE: Message.Status.DONE, streaming.STOPPED: Message.Status.STOPPED}.get(
        judge.status, Message.Status.ERROR)
    return MergeResult(judge.text, status, error=judge.error, strategy_used="synthesize", relied_on=relied,
                       agreement=len(relied) if relied else None, letters=letters, judge=judge,
                       first_token_at=started + judge.stats.ttft_ms / 1000 if judge.stats.ttft_ms else None,
                       note="" if relied else "The judge did not say which drafts it relied on.")


async def _show(plan: MergePlan, text: str) -> None:
    await streaming.publish_text(stream=events.message_stream(plan.message_id),
                                 conversation_id=plan.conversation_id, text=text)


async def _shown(plan: MergePlan, text: str, result: MergeResult) -> MergeResult:
    await _show(plan, text)
    result.first_token_at = time.time()
    return result


def _judge_call(plan: MergePlan, prompt: str) -> ModelCall:
    return model_call(model=plan.model, temperature=0.2, messages=[
        {"role": "system", "content": merge.JUDGE_SYSTEM},
        {"role": "user", "content": prompt},
    ])


@transaction.atomic
def merge_finish(*, plan: MergePlan, result: MergeResult) -> None:
    """Save the merge's row, the contemplation's verdict and the answer (with
    the whole contemplation's tokens, cost and time)."""
    judge = result.judge
    AgentRun.objects.update_or_create(
        contemplation_id=plan.contemplation_id, kind=AgentRun.Kind.MERGE, index=0,
        defaults=dict(
            role="Judge" if judge else "Vote", model=plan.model if judge else "",
            temperature=0.2 if judge else None,
            text=(judge.header + "\n" + judge.text).strip() if judge else result.note,
            status=AgentRun.Status.DONE if result.status == Message.Status.DONE else (
                AgentRun.Status.STOPPED if result.status == Message.Status.STOPPED else AgentRun.Status.FAILED),
            error=result.error,
            prompt_tokens=judge.stats.prompt_tokens if judge else 0,
            completion_tokens=judge.stats.completion_tokens if judge else 0,
            cost=_decimal(judge.stats.cost) if judge else Decimal(0),
            ttft_ms=judge.stats.ttft_ms if judge else None,
            total_ms=judge.stats.total_ms if judge else 0,
            finished_at=timezone.now(),
        ),
    )
    now = time.time()
    wall_ms = (now - plan.started) * 1000
    totals = AgentRun.objects.filter(contemplation_id=plan.contemplation_id).aggregate(
        prompt=Sum("prompt_tokens"), completion=Sum("completion_tokens"), cost=Sum("cost"))
    Contemplation.objects.filter(pk=plan.contemplation_id).update(
        status={Message.Status.DONE: Contemplation.Status.DONE,
                Message.Status.STOPPED: Contemplation.Status.STOPPED}.get(result.status, Contemplation.Status.FAILED),
        strategy_used=result.strategy_used,
        agreement=result.agreement,
        relied_on=sorted(result.relied_on),
        tally=result.tally,
        merge_note=result.note,
        draft_letters={str(index): letter for index, letter in result.letters.items()},
        finished_at=timezone.now(),
        wall_ms=wall_ms,
    )
    Message.objects.filter(pk=plan.message_id, status=Message.Status.STREAMING).update(
        content=result.text,
        status=result.status,
        error=result.error,
        prompt_tokens=totals["prompt"],
        completion_tokens=totals["completion"],
        cost=totals["cost"],
        ttft_ms=(result.first_token_at - plan.started) * 1000 if result.first_token_at else None,
        total_ms=wall_ms,
        finished_at=timezone.now(),
    )


def _decimal(cost: float | None) -> Decimal | None:
    return None if cost is None else Decimal(str(round(cost, 8)))
