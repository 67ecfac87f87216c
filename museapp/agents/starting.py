"""Starting a contemplation: the strategy and the judge it merges with, its
agents' rows and the settings of the calls they will make (the worker reads
their messages: ``agent_messages``); and, once merged, making one agent or
the merge ready to run again. Each runs inside the caller's transaction;
museapp/agents/tasks.py starts the work."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

from django.conf import settings
from django.http import Http404
from django.utils import timezone

from museapp.agents import roles, rosters, selectors, strategies
from museapp.agents.models import AgentRun, Comparison, Contemplation
from museapp.agents.strategies import confidence, synthesize
from museapp.chat.models import Conversation, Message
from museapp.llm.adapter import ModelCall
from museapp.llm.config import available_models, model_call, system_prompt
from museapp.llm.local import is_local


def default_strategy(model: str = "") -> str:
    """MUSE_MERGE_STRATEGY; unset, the strategy measured best for the model
    (``manage.py evaluate``): the offline model is too small to judge, and
    weighing its drafts by its own confidence beat the consensus."""
    strategy = settings.MUSE_MERGE_STRATEGY
    if strategy in strategies.STRATEGIES:
        return strategy
    return confidence.NAME if is_local(model) else synthesize.NAME


def strategy_for(conversation: Conversation, model: str = "") -> str:
    if conversation.merge_strategy in strategies.STRATEGIES:
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
                        compare: bool = False, auto: bool = False) -> ContemplationStart:
    """Create the contemplation and its agents' rows (inside the caller's
    transaction) and the settings of the calls the agents will make.
    ``agents``: the team's size (default MUSE_AGENTS); ``compare``: also
    answer quickly, for a blind comparison; ``auto``: started because a
    quick answer was unsure (Contemplating: Auto)."""
    models = _roster(conversation) or roles.agent_models(roles.agent_count(agents), answer.model)
    count = len(models)
    temperatures = roles.temperatures(count, answer.model)
    contemplation = Contemplation.objects.create(
        message=answer,
        strategy=strategy_for(conversation, answer.model),
        agent_count=count,
        deadline_s=settings.MUSE_CONTEMPLATE_DEADLINE,
        quorum=settings.MUSE_QUORUM if 0 < settings.MUSE_QUORUM < count else 0,
        judge_model=judge_for(conversation),
        auto=auto,
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


def _roster(conversation: Conversation) -> list[str]:
    """The models of the roster picked in the strategy menu, while they are all on offer."""
    try:
        return rosters.roster_models(conversation.agent_roster) if conversation.agent_roster else []
    except rosters.InvalidRoster:
        return []


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


# --- after the merge: one agent again, the merge again ------------------------


def agent_reset(*, contemplation: Contemplation, run_id: object) -> AgentJob:
    """Make one failed or cut-off agent of a merged contemplation ready to
    draft again (inside the caller's transaction), with its call's settings."""
    try:
        run = selectors.agent_run_of(message=contemplation.message, run_id=run_id, for_update=True)
    except Http404:
        raise ValueError("That agent is not part of this answer.") from None
    if run.status not in (AgentRun.Status.FAILED, AgentRun.Status.CUT_OFF):
        raise ValueError("Only a failed or cut-off agent can be retried.")
    if not contemplation.has_ended or contemplation.is_blind:
        raise ValueError("An agent can be retried once the answer is merged (and compared).")
    AgentRun.objects.filter(pk=run.pk).reset(started_at=timezone.now())
    return AgentJob(run.pk, run.role, model_call(model=run.model, messages=[], temperature=run.temperature))


def merge_check(*, contemplation: Contemplation) -> None:
    """What "Merge again" needs (ValueError otherwise): the contemplation
    ended, no agent drafting, no comparison pending, a draft to merge."""
    if not contemplation.has_ended or contemplation.runs.filter(kind=AgentRun.Kind.AGENT,
                                                                status=AgentRun.Status.THINKING).exists():
        raise ValueError("Wait for the agents to finish, then merge again.")
    if contemplation.is_blind:
        raise ValueError("Choose between the two answers first.")
    drafts = contemplation.runs.filter(kind=AgentRun.Kind.AGENT, status__in=AgentRun.MERGEABLE)
    if not drafts.exclude(text="").exists():
        raise ValueError("No agent has a draft to merge: retry an agent first.")


VERSION_FIELDS = ("strategy", "auto", "agent_count", "deadline_s", "quorum", "wall_ms", "early_stop",
                  "saved_tokens", "drafts_failed", "drafts_cut_off", "judge_model")


def version_start(*, contemplation: Contemplation, answer: Message, origin: str,
                  draft_used: int | None = None) -> Contemplation:
    """The contemplation behind a new version of its answer (inside the
    caller's transaction): the same drafts, copied under ``answer``, and
    the figures of the contemplation that wrote them (its agents, its time),
    so the fold line stays the same. Merged again, it waits for its merge
    (its own figures go on the merge's row); with ``draft_used``, that draft
    is the answer. ValueError while an agent is still drafting."""
    runs = list(contemplation.runs.filter(kind=AgentRun.Kind.AGENT))
    if any(run.is_running for run in runs):
        raise ValueError("Wait for the agents to finish.")
    merging = origin == Contemplation.Origin.MERGED_AGAIN
    version = Contemplation.objects.create(
        message=answer, origin=origin, draft_used=draft_used,
        status=Contemplation.Status.MERGING if merging else Contemplation.Status.DONE,
        finished_at=None if merging else timezone.now(),
        **{name: getattr(contemplation, name) for name in VERSION_FIELDS})
    copied = [field.name for field in AgentRun._meta.concrete_fields if field.name not in ("id", "contemplation")]
    AgentRun.objects.bulk_create(
        [AgentRun(contemplation=version, **{name: getattr(run, name) for name in copied}) for run in runs])
    return version
