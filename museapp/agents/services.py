"""Contemplation: fan a question out to diverse agents, then merge honestly.

The plain functions here own the database; the async ones (``merge_run``)
own the model calls and frames and touch no database, so they run on the
worker's event loop. museapp/agents/tasks.py strings them together.
"""

from __future__ import annotations

import logging
import secrets
import time
from dataclasses import dataclass, field, replace

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.http import Http404
from django.utils import timezone

from museapp.agents import merge, roles
from museapp.agents.models import AgentRun, Comparison, Contemplation
from museapp.chat.access import parse_id
from museapp.chat.context import instructions_for
from museapp.chat.models import INTERRUPTED_REASON, Conversation, Message
from museapp.llm.adapter import ModelCall
from museapp.llm.config import available_models, model_call, system_prompt
from museapp.llm.local import is_local
from museapp.streams import stopping
from museapp.streams.names import Stream
from museapp.streams.publisher import publish_text
from museapp.streams.records import usage_fields
from museapp.streams.run import StreamResult, StreamStatus, run_stream

log = logging.getLogger(__name__)

STRATEGIES = {choice.value for choice in Contemplation.Strategy}


def default_strategy(model: str = "") -> str:
    """MUSE_MERGE_STRATEGY; unset, the strategy measured best for the model
    (``manage.py evaluate``): the offline model is too small to judge."""
    strategy = settings.MUSE_MERGE_STRATEGY
    if strategy in STRATEGIES:
        return strategy
    return Contemplation.Strategy.CONSENSUS if is_local(model) else Contemplation.Strategy.SYNTHESIZE


def strategy_for(conversation: Conversation, model: str = "") -> str:
    if conversation.merge_strategy in STRATEGIES:
        return conversation.merge_strategy
    return default_strategy(model)


@dataclass
class AgentJob:
    run_id: int
    role: str
    call: ModelCall  # its settings; the messages are read by the worker (agent_messages)


@dataclass
class ContemplationStart:
    contemplation: Contemplation
    jobs: list[AgentJob]
    deadline: float  # time.time()
    quick: AgentJob | None = None  # compare mode's quick answer, when this turn is compared


def contemplation_start(*, conversation: Conversation, answer: Message, agents: int | None = None,
                        compare: bool = False) -> ContemplationStart:
    """Create the contemplation and its agents' rows (inside the caller's
    transaction) and the settings of the calls the agents will make.
    ``agents``: the team's size (default MUSE_AGENTS); ``compare``: also
    answer quickly, for a blind comparison."""
    count = roles.agent_count(agents)
    models = roles.agent_models(count, answer.model)
    temperatures = roles.temperature_ladder(count, *roles.temperature_range(answer.model))
    contemplation = Contemplation.objects.create(
        message=answer,
        strategy=strategy_for(conversation, answer.model),
        agent_count=count,
        deadline_s=settings.MUSE_CONTEMPLATE_DEADLINE,
        quorum=settings.MUSE_QUORUM if 0 < settings.MUSE_QUORUM < count else 0,
        judge_model=judge_for(conversation),
    )
    jobs = []
    for index in range(count):
        role = roles.ROLES[index % len(roles.ROLES)]
        run = AgentRun.objects.create(
            contemplation=contemplation, index=index, role=role.name,
            model=models[index], temperature=temperatures[index],
        )
        jobs.append(AgentJob(run.pk, role.name, model_call(model=models[index], messages=[],
                                                           temperature=temperatures[index])))
    quick = comparison_start(contemplation=contemplation) if compare else None
    return ContemplationStart(contemplation, jobs, time.time() + contemplation.deadline_s, quick)


QUICK_ROLE = "Quick answer"


def comparison_start(*, contemplation: Contemplation) -> AgentJob:
    """The blind comparison's rows: the quick answer's run (exactly the call
    quick mode makes: the answer's model, its settings, the same context)
    and the order the two answers will be shown in, drawn now and kept."""
    model = contemplation.message.model
    run = AgentRun.objects.create(contemplation=contemplation, kind=AgentRun.Kind.QUICK, index=0, role=QUICK_ROLE,
                                  model=model)
    Comparison.objects.create(contemplation=contemplation, quick_run=run,
                              contemplated_position=secrets.choice((1, 2)))
    return AgentJob(run.pk, QUICK_ROLE, model_call(model=model, messages=[]))


def judge_for(conversation: Conversation) -> str:
    """The judge's model picked in the strategy menu, while still on offer."""
    picked = conversation.judge_model
    return picked if picked and any(choice.id == picked for choice in available_models()) else ""


def agent_messages(*, role: str, context: list[dict[str, str]], model: str = "") -> list[dict[str, str]]:
    """What one agent reads: its role's system prompt, then the conversation."""
    base = context[0]["content"] if context and context[0]["role"] == "system" else system_prompt(model)
    turns = [m for m in context if m["role"] != "system"]
    return [{"role": "system", "content": roles.system_prompt(roles.by_name(role), base, model)}, *turns]


@transaction.atomic
def answer_from_draft(*, message: Message, run: AgentRun) -> Message:
    """Make an agent's draft the turn's answer (later turns read it); the
    merge's own answer is kept on the contemplation."""
    Contemplation.objects.filter(pk=run.contemplation_id).update(draft_used=run.index)
    _answer_replaced(contemplation_id=run.contemplation_id, message=message, text=run.text)
    message.refresh_from_db()
    return message


def _answer_replaced(*, contemplation_id: int, message: Message, text: str) -> None:
    """``text`` becomes the finished answer; the merge's own answer is kept
    on the contemplation the first time it is replaced."""
    Contemplation.objects.filter(pk=contemplation_id, merged_text="").update(merged_text=message.content)
    Message.objects.filter(pk=message.pk, status=Message.Status.DONE).update(content=text)


def comparison_record(*, comparison: Comparison, choice: str) -> Comparison:
    """Save a person's choice (inside the caller's transaction, the row
    locked) with what was compared as it stood. A preferred quick answer
    becomes the turn's answer (later turns read it); the merge's is kept."""
    contemplation = comparison.contemplation
    message = contemplation.message
    quick = comparison.quick_run
    judge = AgentRun.objects.filter(contemplation=contemplation, kind=AgentRun.Kind.MERGE).exclude(model="").first()
    comparison.choice, comparison.chosen_at = choice, timezone.now()
    comparison.contemplated_chars, comparison.quick_chars = len(message.content), len(quick.text)
    comparison.contemplated_tokens, comparison.quick_tokens = message.total_tokens, quick.total_tokens
    comparison.contemplated_cost, comparison.quick_cost = message.cost, quick.cost
    comparison.contemplated_ms, comparison.quick_ms = message.total_ms, quick.total_ms
    comparison.strategy = contemplation.strategy_used or contemplation.strategy
    comparison.agent_count, comparison.agreement = contemplation.agent_count, contemplation.agreement
    comparison.judge_model = judge.model if judge else ""
    comparison.save()
    if choice == Comparison.Choice.QUICK:
        _answer_replaced(contemplation_id=contemplation.pk, message=message, text=quick.text)
    return comparison


# --- after the merge: one agent again, the merge again ------------------------


def agent_reset(*, contemplation: Contemplation, run_id: object) -> AgentJob:
    """Make one failed or cut-off agent of a merged contemplation ready to
    draft again (inside the caller's transaction), with its call's settings."""
    try:
        run = (AgentRun.objects.select_for_update().filter(pk=parse_id(run_id), kind=AgentRun.Kind.AGENT,
                                                           contemplation=contemplation).first())
    except Http404:
        run = None
    if run is None:
        raise ValueError("That agent is not part of this answer.")
    if run.status not in (AgentRun.Status.FAILED, AgentRun.Status.CUT_OFF):
        raise ValueError("Only a failed or cut-off agent can be retried.")
    if not contemplation.has_ended or contemplation.is_blind:
        raise ValueError("An agent can be retried once the answer is merged (and compared).")
    AgentRun.objects.filter(pk=run.pk).update(status=AgentRun.Status.THINKING, text="", error="",
                                              started_at=timezone.now(), finished_at=None,
                                              **dict.fromkeys(USAGE, None))
    return AgentJob(run.pk, run.role, model_call(model=run.model, messages=[], temperature=run.temperature))


def merge_reset(*, contemplation: Contemplation) -> None:
    """Make a merged contemplation ready to merge its drafts again (inside
    the caller's transaction, the answer reset by the caller): its timing
    restarts, and the person's earlier choice of draft is forgotten."""
    if not contemplation.has_ended or contemplation.runs.filter(kind=AgentRun.Kind.AGENT,
                                                                status=AgentRun.Status.THINKING).exists():
        raise ValueError("Wait for the agents to finish, then merge again.")
    if contemplation.is_blind:
        raise ValueError("Choose between the two answers first.")
    drafts = contemplation.runs.filter(kind=AgentRun.Kind.AGENT, status__in=AgentRun.MERGEABLE)
    if not drafts.exclude(text="").exists():
        raise ValueError("No agent has a draft to merge: retry an agent first.")
    Contemplation.objects.filter(pk=contemplation.pk).update(
        status=Contemplation.Status.MERGING, started_at=timezone.now(), finished_at=None, merged_text="",
        draft_used=None)


USAGE = ("prompt_tokens", "completion_tokens", "cost", "ttft_ms", "total_ms")


# --- agents -----------------------------------------------------------------


def agent_finish(*, run_id: int, result: StreamResult) -> None:
    """Save an agent's draft. One stopped because a quorum had finished is
    cut off (the merge went on without it), not stopped by the person."""
    runs = AgentRun.objects.filter(pk=run_id)
    if result.status == StreamStatus.STOPPED and runs.filter(
            contemplation__early_stop=Contemplation.EarlyStop.QUORUM).exists():
        result = replace(result, status=StreamStatus.CUT_OFF)
    runs.finish_stream(result)


def quick_finish(*, run_id: int, result: StreamResult) -> None:
    """Save compare mode's quick answer (shown once the merge is done too)."""
    AgentRun.objects.filter(pk=run_id, kind=AgentRun.Kind.QUICK).finish_stream(result)


def agent_fail(*, run_id: int, reason: str) -> None:
    AgentRun.objects.filter(pk=run_id).interrupt(reason=reason)


AGENT_INTERRUPTED = "Interrupted: the worker running this agent stopped."


def agent_interrupted(*, run_id: int, text: str) -> AgentRun | None:
    """An agent whose worker died (museapp/agents/reaping.py): failed,
    keeping its partial draft; None if it had ended meanwhile."""
    if not AgentRun.objects.filter(pk=run_id).interrupt(reason=AGENT_INTERRUPTED, text=text):
        return None
    return AgentRun.objects.select_related("contemplation__message").get(pk=run_id)


@transaction.atomic
def merge_interrupted(*, contemplation_id: int) -> Message | None:
    """A merge whose worker died: the answer ends as interrupted (Retry runs
    the whole contemplation again)."""
    contemplation = (Contemplation.objects.select_for_update().select_related("message__conversation")
                     .get(pk=contemplation_id))
    if not Message.objects.filter(pk=contemplation.message_id).interrupt(reason=INTERRUPTED_REASON):
        return None
    Contemplation.objects.filter(pk=contemplation_id).update(
        status=Contemplation.Status.FAILED, finished_at=timezone.now()
    )
    return contemplation.message


@dataclass
class Settlement:
    """What to do after an agent ended: stop agents a vote no longer needs,
    and whether this caller won the right to start the merge."""

    stop_streams: list[Stream] = field(default_factory=list)
    merge: bool = False
    message_id: int | None = None


@transaction.atomic
def contemplation_settle(*, contemplation_id: int) -> Settlement:
    # The row lock makes agents that finish together settle one after the
    # other, so the last one sees every draft (and agreement is noticed).
    contemplation = Contemplation.objects.select_for_update().get(pk=contemplation_id)
    runs = list(contemplation.runs.filter(kind=AgentRun.Kind.AGENT))
    thinking = [r for r in runs if r.is_thinking]
    settlement = Settlement(message_id=contemplation.message_id)
    already_stopping = bool(contemplation.early_stop)
    reason = "" if not thinking or already_stopping else early_stop_reason(runs, quorum=contemplation.quorum)
    if reason:
        Contemplation.objects.filter(pk=contemplation_id).update(early_stop=reason)
        settlement.stop_streams = [r.stream for r in thinking]
        log.info("contemplation %s: stopping %d agent(s) early (%s)", contemplation_id, len(thinking), reason)
    if not thinking:
        settlement.merge = merge_claim(contemplation_id=contemplation_id)
    return settlement


def early_stop_reason(runs: list[AgentRun], *, quorum: int = 0) -> str:
    """Why the agents still drafting are no longer needed, or "": the
    finished drafts' majority answer is locked (those still running cannot
    overturn it), or a quorum of drafts has finished."""
    done = [r for r in runs if r.status == AgentRun.Status.DONE]
    thinking = sum(r.is_thinking for r in runs)
    answers = {r.index: merge.short_answer(r.text) for r in done}
    if settings.MUSE_AGREEMENT_STOP and merge.locked_majority(answers, thinking) is not None:
        return Contemplation.EarlyStop.AGREEMENT
    if 0 < quorum <= len(done):
        return Contemplation.EarlyStop.QUORUM
    return ""


def merge_claim(*, contemplation_id: int) -> bool:
    """Exactly one caller wins: the merge runs once however agents race."""
    return bool(
        Contemplation.objects.filter(pk=contemplation_id, status=Contemplation.Status.THINKING)
        .update(status=Contemplation.Status.MERGING)
    )


# --- the merge ----------------------------------------------------------------


JUDGE_TEMPERATURE = 0.2


@dataclass
class MergePlan:
    """What the merge needs, read from the database before it streams."""

    contemplation_id: int
    message_id: int
    conversation_id: int
    owner_id: int
    strategy: str
    question: str
    drafts: list[merge.Draft]
    failures: list[str]
    model: str
    started: float  # time.time() of the contemplation's start
    seed: int
    deadline: float  # time.time() by which the merge must have ended
    publish: bool = True  # False while the answer is blind: it is shown beside its rival, at once
    instructions: str = ""  # the person's custom instructions, when the answer was started with them

    @property
    def stream(self) -> Stream:
        return Stream.answer(self.message_id)


@dataclass
class MergeResult:
    text: str
    status: StreamStatus
    error: str = ""
    strategy_used: str = ""
    relied_on: list[int] = field(default_factory=list)
    agreement: int | None = None
    tally: dict = field(default_factory=dict)
    note: str = ""
    letters: dict[int, str] = field(default_factory=dict)
    judge: StreamResult | None = None
    first_token_at: float | None = None  # time.time()


def merge_plan(*, contemplation_id: int) -> MergePlan:
    contemplation = (Contemplation.objects.select_related("message__conversation", "comparison__quick_run")
                     .get(pk=contemplation_id))
    message = contemplation.message
    runs = list(contemplation.runs.filter(kind=AgentRun.Kind.AGENT))
    usable = [r for r in runs if r.status in AgentRun.MERGEABLE and r.text.strip()]
    # Finished drafts first; partials (cut off, or stopped: "Merge what's there") only when nothing finished.
    finished = [r for r in usable if r.status == AgentRun.Status.DONE] or usable
    question = message.question_text()
    return MergePlan(
        contemplation_id=contemplation.pk,
        message_id=message.pk,
        conversation_id=message.conversation_id,
        owner_id=message.conversation.user_id,
        strategy=contemplation.strategy,
        question=question,
        drafts=[merge.Draft(r.index, r.role, r.text) for r in finished],
        failures=[f"{r.role}: {r.error}" for r in runs if r.status == AgentRun.Status.FAILED and r.error],
        model=contemplation.judge_model or settings.MUSE_MERGE_MODEL or message.model,
        started=contemplation.started_at.timestamp(),
        seed=contemplation.pk,
        deadline=time.time() + settings.MUSE_MERGE_DEADLINE,
        publish=not contemplation.is_blind,
        instructions=instructions_for(message.pk),
    )


async def merge_run(plan: MergePlan) -> MergeResult:
    if await stopping.is_requested(plan.stream):
        return MergeResult("", StreamStatus.STOPPED, note="Stopped before the merge.")
    if not plan.drafts:
        # One plain sentence, then the first agent's own reason (already a sentence).
        detail = plan.failures[0].split(": ", 1)[-1] if plan.failures else "Try again."
        return MergeResult("", StreamStatus.ERROR, error=f"Every agent failed, so there was nothing to merge. {detail}")
    if plan.strategy == Contemplation.Strategy.VOTE:
        result = await _vote(plan)
        if result is not None:
            return result
        return await _select(plan, fallback_from="vote")
    if plan.strategy == Contemplation.Strategy.CONSENSUS:
        return await _consensus(plan)
    agreed = merge.unanimous_answer(plan.drafts)
    if agreed is not None:
        return await _unanimous(plan, agreed)
    if plan.strategy == Contemplation.Strategy.SELECT or len(plan.drafts) == 1:
        return await _select(plan)
    return await _synthesize(plan)


async def _unanimous(plan: MergePlan, agreed: str) -> MergeResult:
    """Every draft gives the same short answer: the best-formed of them (the
    most typical), with no judge call to pay for."""
    picked = merge.consensus(plan.drafts)
    return await _published(plan, MergeResult(
        picked.chosen.text, StreamStatus.DONE, strategy_used="unanimous", relied_on=[d.index for d in plan.drafts],
        agreement=len(plan.drafts), tally=dict(picked.counts),
        note=f"All {len(plan.drafts)} drafts gave the same answer ({agreed}), so no judge was needed."))


async def _consensus(plan: MergePlan) -> MergeResult:
    picked = merge.consensus(plan.drafts)
    if picked.answer is not None:
        note = (f"Consensus: {len(picked.agreeing)} of {len(plan.drafts)} drafts answered {picked.answer}; "
                f"this is the most typical of them.")
    else:
        note = "Consensus: no short answers to count, so this is the draft most like the others."
    return await _published(plan, MergeResult(
        picked.chosen.text, StreamStatus.DONE, strategy_used="consensus",
        relied_on=[d.index for d in picked.agreeing], agreement=len(picked.agreeing) if picked.answer else None,
        tally=dict(picked.counts), note=note))


async def _vote(plan: MergePlan) -> MergeResult | None:
    answers = merge.short_answers(plan.drafts)
    winner = merge.vote_winner(answers)
    if winner is None:
        return None
    chosen = next(d for d in plan.drafts if answers[d.index] == winner)
    counts = merge.tally(answers)
    relied = [d.index for d in plan.drafts if answers[d.index] == winner]
    note = "Vote: " + ", ".join(f"{n}× {answer}" for answer, n in counts.most_common())
    return await _published(plan, MergeResult(
        chosen.text, StreamStatus.DONE, strategy_used="vote", relied_on=relied, agreement=counts[winner],
        tally=dict(counts), note=note))


async def _select(plan: MergePlan, fallback_from: str = "") -> MergeResult:
    lettered = merge.letter_drafts(plan.drafts, plan.seed)
    letters = {d.index: letter for letter, d in lettered.items()}
    call = _judge_call(plan, merge.select_prompt(plan.question, lettered))
    # Not shown (the chosen draft is), but under the answer's name, so Stop reaches it.
    judge = await run_stream(stream=plan.stream, conversation_id=plan.conversation_id, call=call, publish=False,
                             deadline=plan.deadline)
    if judge.status == StreamStatus.STOPPED:
        return MergeResult("", StreamStatus.STOPPED, judge=judge, letters=letters)
    selection = merge.parse_selection(judge.text, lettered)
    prefix = "No draft had a short answer to vote on; " if fallback_from == "vote" else ""
    if selection is None:
        chosen = plan.drafts[0]
        why = judge.error or "its reply named no draft"
        return await _published(plan, MergeResult(
            chosen.text, StreamStatus.DONE, strategy_used="select", relied_on=[chosen.index],
            note=f"{prefix}the judge could not choose ({why}), so this is the {chosen.role}'s draft as written.",
            letters=letters, judge=judge))
    chosen = lettered[selection.letter]
    return await _published(plan, MergeResult(
        chosen.text, StreamStatus.DONE, strategy_used="select",
        relied_on=[lettered[letter].index for letter in selection.agree],
        agreement=len(selection.agree), letters=letters, judge=judge,
        note=f"{prefix}the judge chose Draft {selection.letter} ({chosen.role}): {selection.reason}".strip()))


async def _synthesize(plan: MergePlan) -> MergeResult:
    lettered = merge.letter_drafts(plan.drafts, plan.seed)
    letters = {d.index: letter for letter, d in lettered.items()}
    call = _judge_call(plan, merge.synthesize_prompt(plan.question, lettered))
    started = time.time()
    judge = await run_stream(stream=plan.stream, conversation_id=plan.conversation_id, call=call,
                             hold_first_line=True, deadline=plan.deadline, publish=plan.publish)
    relied = [lettered[letter].index for letter in merge.parse_relied_on(judge.header, lettered)]
    if judge.status == StreamStatus.ERROR and not judge.text:
        chosen = plan.drafts[0]
        return await _published(plan, MergeResult(
            chosen.text, StreamStatus.DONE, strategy_used="select", relied_on=[chosen.index], letters=letters,
            judge=judge, note=f"The judge failed ({judge.error}), so this is the {chosen.role}'s draft as written."))
    return MergeResult(judge.text, judge.status, error=judge.error, strategy_used="synthesize", relied_on=relied,
                       agreement=len(relied) if relied else None, letters=letters, judge=judge,
                       first_token_at=started + judge.stats.ttft_ms / 1000 if judge.stats.ttft_ms else None,
                       note="" if relied else "The judge did not say which drafts it relied on.")


async def _published(plan: MergePlan, result: MergeResult) -> MergeResult:
    """Show the answer's whole text at once (a vote's or a selected draft)."""
    if plan.publish:
        await publish_text(stream=plan.stream, conversation_id=plan.conversation_id, text=result.text)
    result.first_token_at = time.time()
    return result


def _judge_call(plan: MergePlan, prompt: str) -> ModelCall:
    system = merge.JUDGE_SYSTEM
    if plan.instructions:
        system += f"\n\nThe final answer goes to a person who gave these standing instructions.\n\n{plan.instructions}"
    return model_call(model=plan.model, temperature=JUDGE_TEMPERATURE, messages=[
        {"role": "system", "content": system},
        {"role": "user", "content": prompt},
    ])


CONTEMPLATION_STATUS = {StreamStatus.DONE: Contemplation.Status.DONE, StreamStatus.STOPPED: Contemplation.Status.STOPPED}


@transaction.atomic
def merge_finish(*, plan: MergePlan, result: MergeResult) -> None:
    """Save the merge's row, the contemplation's verdict and the answer (with
    the whole contemplation's tokens, cost and time)."""
    _save_merge_run(plan, result)
    wall_ms = (time.time() - plan.started) * 1000
    Contemplation.objects.filter(pk=plan.contemplation_id).update(
        status=CONTEMPLATION_STATUS.get(result.status, Contemplation.Status.FAILED),
        strategy_used=result.strategy_used,
        agreement=result.agreement,
        relied_on=sorted(result.relied_on),
        tally=result.tally,
        merge_note=result.note,
        draft_letters={str(index): letter for index, letter in result.letters.items()},
        finished_at=timezone.now(),
        wall_ms=wall_ms,
        **_draft_outcomes(plan.contemplation_id),
    )
    # The quick answer of a comparison is not part of what contemplating cost.
    runs = AgentRun.objects.filter(contemplation_id=plan.contemplation_id).exclude(kind=AgentRun.Kind.QUICK)
    totals = runs.aggregate(
        prompt_tokens=Sum("prompt_tokens"), completion_tokens=Sum("completion_tokens"), cost=Sum("cost"))
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
