"""Starting, retrying, stopping and enqueueing turns.

A turn's answer runs one of two ways, both a ``TurnRun``: a quick answer
(one model call) or a contemplation (agents, then the merge). Both are
prepared inside the turn's transaction (their rows) and enqueued by its
commit hook, before any frame goes to a page: a socket that closes at any
moment after a send cannot lose the question.
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Protocol

from asgiref.sync import async_to_sync
from celery import current_app
from channels.db import database_sync_to_async
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from museapp.agents import selectors as agent_selectors
from museapp.agents import starting as agents
from museapp.agents import rosters, strategies
from museapp.agents.models import Contemplation
from museapp.agents.tasks import agent_task_arguments, run_merge, start_agent_retry, start_agents
from museapp.chat import services as chat
from museapp.chat import branches, sidebar
from museapp.chat.models import Conversation, Message
from museapp.chat.services import InvalidMessage
from museapp.chat.tasks import run_answer
from museapp.files.services import attachments_chosen
from museapp.files.sniff import Refused
from museapp.llm.adapter import ModelCall
from museapp.llm.config import available_models, model_call
from museapp.turns import limits
from museapp.streams import events, leases, running, stopping
from museapp.streams.announce import announce_on_commit
from museapp.streams.names import Stream

log = logging.getLogger(__name__)


class TurnRun(Protocol):
    """How an answer runs; made inside the turn's transaction."""

    def task_arguments(self) -> list[dict]:
        """What its tasks carry (ids and settings: never a whole history)."""

    def enqueue(self) -> None:
        """Hand the model calls to the workers (after the commit)."""


@dataclass
class QuickAnswer:
    message_id: int
    conversation_id: int
    owner_id: int
    call: ModelCall
    auto: bool = False  # Contemplating: Auto: once answered, contemplate if the model was unsure

    def task_arguments(self) -> list[dict]:
        return [{"message_id": self.message_id, "conversation_id": self.conversation_id, "owner_id": self.owner_id,
                 "call": self.call.as_dict(), "deadline": time.time() + settings.MUSE_ANSWER_DEADLINE}]

    def enqueue(self) -> None:
        answer = run_answer.si(**self.task_arguments()[0])
        if self.auto:
            # By name: the task (museapp/turns/tasks.py) is a thin wrapper over answer_auto_check below.
            answer = answer | current_app.signature(AUTO_CHECK_TASK, kwargs={"message_id": self.message_id},
                                                    immutable=True)
        answer.delay()


@dataclass
class ContemplatedAnswer:
    start: agents.ContemplationStart
    conversation_id: int

    def task_arguments(self) -> list[dict]:
        return agent_task_arguments(self.start, conversation_id=self.conversation_id)

    def enqueue(self) -> None:
        start_agents(self.start, conversation_id=self.conversation_id)


@dataclass
class Turn:
    """A person's message (None for a retry), the answer it started, and how
    that runs (None when it failed before any call, e.g. no model)."""

    user_message: Message | None
    answer: Message
    run: TurnRun | None
    title_changed: bool = False


class AtCapacity(InvalidMessage):
    """The person already has as many answers in progress as Muse runs at once."""


RUNNING_CAP_REASON = ("You have {cap} answers in progress, the most Muse runs at once for one person. "
                      "Wait for one to finish, or stop one, then send again.")


def _slot_take(*, owner_id: int, stream: Stream) -> None:
    """One of the person's slots for ``stream`` (given back by itself if the
    caller's transaction rolls back), or AtCapacity."""
    if not running.take(owner_id=owner_id, stream=stream):
        raise AtCapacity(RUNNING_CAP_REASON.format(cap=settings.MUSE_MAX_RUNNING_ANSWERS))


def _turn_run(conversation: Conversation, answer: Message, *, contemplate: bool,
              agents_count: int | None = None, unsure: bool = False) -> TurnRun | None:
    """How the answer runs, with the person's slot for it taken (or
    InvalidMessage, rolling the turn back, when they are at the cap).
    ``unsure``: contemplating because a quick answer was unsure (Auto)."""
    if not answer.is_running:
        return None
    _slot_take(owner_id=conversation.user_id, stream=answer.stream)
    if contemplate:
        compare = compare_drawn(conversation) and not unsure  # Auto's quick answer is already the version before
        return ContemplatedAnswer(agents.contemplation_start(conversation=conversation, answer=answer,
                                                            agents=agents_count, compare=compare, auto=unsure),
                                  conversation.pk)
    # The worker reads the conversation as the answer starts: the task carries ids.
    return QuickAnswer(answer.pk, conversation.pk, conversation.user_id,
                       model_call(model=answer.model, messages=[]), auto=conversation.auto_contemplate)


def compare_drawn(conversation: Conversation) -> bool:
    """Whether this contemplated turn is also answered quickly, for a blind
    comparison: a share (MUSE_COMPARE_RATE) of people's turns, unless they
    opted out in Settings; never an evaluation's (it compares on its own)."""
    rate = settings.MUSE_COMPARE_RATE
    if rate <= 0 or conversation.is_evaluation:
        return False
    if not chat.preferences_for(user_id=conversation.user_id).compare_answers:
        return False
    return random.random() < rate


@transaction.atomic
def turn_start(*, conversation: Conversation, text: object, contemplate: bool = False, strategy: str = "",
               judge: str | None = None, agents_count: int | None = None, origin: str = "",
               attachments: tuple = (), auto: bool | None = None, roster: str | None = None) -> Turn:
    """Save the person's message and an answer placeholder in one transaction
    (with the agents' rows when contemplating), count it against the
    person's limits, and enqueue the answer when it commits; then the
    conversation's pages are told (all but ``origin``, the sender's socket,
    which shows the turn itself). The switch, the strategy and the judge
    ("": the default) are remembered on the conversation; ``agents_count``
    sizes this turn's team (default MUSE_AGENTS); ``attachments`` are the
    ids of the files it carries (attached, read, not sent yet); ``auto``
    (None: as it was) is Contemplating: Auto, for quick answers; ``roster``
    (None: as it was; "": the default) sets each agent's model."""
    text = chat.message_clean_text(text)  # a message refused anyway counts against no limit
    conversation = chat.conversation_lock(conversation=conversation)
    files = _files_chosen(conversation, attachments)
    title_changed = chat.conversation_name_from(conversation=conversation, text=text)
    _remember_choices(conversation, contemplate=contemplate, strategy=strategy, judge=judge, auto=auto,
                      roster=roster)
    limits.answer_charge(conversation=conversation, contemplate=conversation.contemplate)
    user_message = chat.message_add(conversation=conversation, text=text)
    if files:
        user_message.attachments.set(files)
    answer = chat.answer_placeholder(conversation=conversation, question=user_message)
    conversation.current_leaf = answer
    conversation.save(update_fields=["title", "contemplate", "auto_contemplate", "merge_strategy", "judge_model",
                                     "agent_roster", "current_leaf", "updated_at"])
    run = _turn_run(conversation, answer, contemplate=conversation.contemplate, agents_count=agents_count)
    turn = Turn(user_message, answer, run, title_changed)
    transaction.on_commit(lambda: turn_enqueue(turn))
    announce_on_commit(conversation.pk, events.turn(user_message.pk, answer.pk, origin))
    return turn


def _files_chosen(conversation: Conversation, ids: tuple) -> list:
    try:
        return attachments_chosen(conversation=conversation, ids=ids) if ids else []
    except Refused as refused:
        raise InvalidMessage(str(refused)) from None


def _remember_choices(conversation: Conversation, *, contemplate: bool, strategy: str, judge: str | None,
                      auto: bool | None = None, roster: str | None = None) -> None:
    conversation.contemplate = bool(contemplate)
    if roster is not None:
        conversation.agent_roster = clean_roster(roster)
    if auto is not None:
        conversation.auto_contemplate = bool(auto)
    if strategy:
        conversation.merge_strategy = clean_strategy(strategy)
    if judge is not None:
        conversation.judge_model = clean_judge(judge)


def _answer_to(conversation: Conversation, question: Message, *, contemplate: bool, unsure: bool = False) -> Turn:
    """A new answer to ``question`` (a new version when it has one already),
    counted against the person's limits, shown from now on in every page of
    the conversation, and how it runs."""
    limits.answer_charge(conversation=conversation, contemplate=contemplate)
    answer = chat.answer_placeholder(conversation=conversation, question=question)
    conversation.current_leaf = answer
    conversation.save(update_fields=["current_leaf", "updated_at"])
    turn = Turn(None, answer, _turn_run(conversation, answer, contemplate=contemplate, unsure=unsure))
    # The pages are told first: until they show the new answer (and its
    # agents) they have no place for its tokens.
    announce_on_commit(conversation.pk, events.branch_changed())
    transaction.on_commit(lambda: turn_enqueue(turn))
    return turn


AUTO_CHECK_TASK = "muse.auto_check"


def answer_auto_check(*, message_id: int) -> Turn | None:
    """Contemplating: Auto, once a quick answer has ended: when the model was
    unsure of it (its confidence below MUSE_AUTO_CONFIDENCE) and it is still
    the answer shown, contemplate the question again as a new version; the
    quick answer stays as the version before. At a limit or the cap on
    answers in progress, the quick answer stands."""
    message = Message.objects.select_related("conversation").filter(pk=message_id).first()
    if message is None or not is_unsure(message) or message.conversation.current_leaf_id != message.pk:
        return None
    try:
        return _auto_contemplate(message)
    except InvalidMessage as refused:
        log.info("Auto did not contemplate answer %s: %s", message_id, refused)
        return None


def is_unsure(message: Message) -> bool:
    return (message.status == Message.Status.DONE and message.confidence is not None
            and message.confidence < settings.MUSE_AUTO_CONFIDENCE)


@transaction.atomic
def _auto_contemplate(message: Message) -> Turn:
    conversation = chat.conversation_lock(conversation=message.conversation)
    return _answer_to(conversation, message.parent, contemplate=True, unsure=True)


def ran_contemplated(message: Message) -> bool:
    """Whether an answer was written with Contemplating: how Regenerate runs it again by default."""
    return message.contemplation_or_none is not None


@transaction.atomic
def answer_regenerate(*, message: Message, contemplate: bool | None = None) -> Turn:
    """"Regenerate": a new version of a finished, failed or stopped answer,
    with Contemplating or quickly (None: the way this one ran)."""
    if not message.is_assistant or message.is_running:
        raise InvalidMessage("Only a finished, failed or stopped answer can be regenerated.")
    conversation = chat.conversation_lock(conversation=message.conversation)
    question = message.parent
    if question is None or question.author != Message.Author.USER:
        raise InvalidMessage("That answer has no question to answer again.")
    if contemplate is None:
        contemplate = ran_contemplated(message)
    return _answer_to(conversation, question, contemplate=contemplate)


@transaction.atomic
def question_edit(*, message: Message, text: object) -> Turn:
    """"Save and send": the person's message, edited, as a new version (a new
    branch from that point) with its own answer; the old branch is kept."""
    if message.is_assistant:
        raise InvalidMessage("Only your own messages can be edited.")
    text = chat.message_clean_text(text)
    conversation = chat.conversation_lock(conversation=message.conversation)
    edited = chat.message_add(conversation=conversation, text=text, parent=message.parent)
    edited.attachments.set(message.attachments.all())  # an edited question keeps its files
    turn = _answer_to(conversation, edited, contemplate=conversation.contemplate)
    return Turn(edited, turn.answer, turn.run)


def branch_show(*, message: Message) -> Conversation:
    """Show a version (and where it leads): the conversation's current leaf
    becomes the newest message down that version's branch, and every page of
    the conversation shows that branch. Counted against the browsing limit
    first, so a refusal costs no transaction."""
    limits.browse_charge(user_id=message.conversation.user_id)
    return _leaf_move(message)


@transaction.atomic
def _leaf_move(message: Message) -> Conversation:
    conversation = chat.conversation_lock(conversation=message.conversation)
    tree = branches.tree_of(conversation.pk)
    conversation.current_leaf_id = branches.newest_leaf_under(message.pk, tree)
    conversation.save(update_fields=["current_leaf", "updated_at"])
    announce_on_commit(conversation.pk, events.branch_changed())
    return conversation


def older_messages(*, conversation: Conversation, before_id: int | None) -> tuple[list[Message], bool]:
    """An earlier page of the branch shown (as the page scrolls up), counted
    against the browsing limit: each renders a whole page of messages."""
    limits.browse_charge(user_id=conversation.user_id)
    return chat.conversation_messages(conversation=conversation, before_id=before_id)


def conversations_more(*, user, after: sidebar.Cursor | None, zone: tzinfo) -> sidebar.Page:
    """A later page of the sidebar's list (as it scrolls), counted against
    the browsing limit like older messages."""
    limits.browse_charge(user_id=user.pk)
    return sidebar.sidebar_page(user=user, after=after, zone=zone)


@transaction.atomic
def answer_retry(*, message: Message) -> Turn:
    """Run a failed or stopped answer again, in place, the way it first ran
    (a contemplation starts afresh)."""
    if not message.is_assistant or message.status not in (Message.Status.ERROR, Message.Status.STOPPED):
        raise InvalidMessage("Only a failed or stopped answer can be retried.")
    conversation = chat.conversation_lock(conversation=message.conversation)
    if message.children.exists():
        raise InvalidMessage("Only the latest answer can be retried.")
    contemplated = ran_contemplated(message)
    limits.answer_charge(conversation=conversation, contemplate=contemplated)
    message = chat.answer_reset(message=message, conversation=conversation)
    Contemplation.objects.filter(message=message).delete()
    turn = Turn(None, message, _turn_run(conversation, message, contemplate=contemplated))
    # The pages are told first: the answer shown as done has no place for
    # the new attempt's tokens until it is re-rendered as running.
    announce_on_commit(conversation.pk, events.message_changed(message.pk))
    transaction.on_commit(lambda: _rerun(turn))
    return turn


def _merged_contemplation(message: Message) -> tuple[Conversation, Contemplation]:
    """The conversation (locked: nothing may be streaming) and the answer's
    contemplation, for a change after its merge."""
    conversation = chat.conversation_lock(conversation=message.conversation)
    contemplation = (Contemplation.objects.select_for_update(of=("self",)).select_related("message")
                     .filter(message=message).first())
    if contemplation is None:
        raise InvalidMessage("Only a contemplated answer has agents to retry or drafts to merge.")
    return conversation, contemplation


@transaction.atomic
def agent_retry(*, message: Message, run_id: object) -> None:
    """"Retry this agent": one failed or cut-off agent drafts again, under
    one of the person's slots; the answer stays as it is until "Merge again"."""
    conversation, contemplation = _merged_contemplation(message)
    limits.answer_charge(conversation=conversation, contemplate=False)  # one model call
    try:
        job = agents.agent_reset(contemplation=contemplation, run_id=run_id)
    except ValueError as refused:
        raise InvalidMessage(str(refused)) from None
    stream = Stream.agent(job.run_id)
    _slot_take(owner_id=conversation.user_id, stream=stream)

    def enqueue() -> None:
        async_to_sync(_forget_last_attempt)(stream)
        start_agent_retry(job, contemplation=contemplation, owner_id=conversation.user_id)

    announce_on_commit(conversation.pk, events.message_changed(message.pk))  # told first, as in answer_retry
    transaction.on_commit(enqueue)


@transaction.atomic
def merge_again(*, message: Message) -> Message:
    """"Merge again": a new version of the answer, written afresh from the
    drafts as they are now (after "Retry this agent", say), with the
    strategy and judge first picked for it; the version before stays, one
    "Previous version" away."""
    conversation, contemplation = _merged_contemplation(message)
    limits.answer_charge(conversation=conversation, contemplate=False)  # one judge call at most
    try:
        agents.merge_check(contemplation=contemplation)
    except ValueError as refused:
        raise InvalidMessage(str(refused)) from None
    # The judge is the one first picked for it: the version keeps the answer's model.
    version = chat.answer_version(conversation=conversation, of=message)
    announce_on_commit(conversation.pk, events.branch_changed())  # told first, as in answer_retry
    if version.is_running:  # else no model is configured any more: the version says so
        merged = agents.version_start(contemplation=contemplation, answer=version,
                                      origin=Contemplation.Origin.MERGED_AGAIN)
        _slot_take(owner_id=conversation.user_id, stream=version.stream)
        transaction.on_commit(lambda: _merge_rerun(version.stream, merged.pk))
    return version


@transaction.atomic
def answer_from_draft(*, message: Message, draft_used: int, text: str) -> Message:
    """"Use this draft": a new version of the answer, the draft as written
    (``text``, of the agent ``draft_used``); the version before stays, one
    "Previous version" away, and later turns read the draft."""
    conversation, contemplation = _merged_contemplation(message)
    if contemplation.draft_used == draft_used:
        raise InvalidMessage("That draft is already the answer.")
    version = chat.answer_version(conversation=conversation, of=message, text=text)
    try:
        agents.version_start(contemplation=contemplation, answer=version, origin=Contemplation.Origin.DRAFT_CHOSEN,
                             draft_used=draft_used)
    except ValueError as refused:
        raise InvalidMessage(str(refused)) from None
    announce_on_commit(conversation.pk, events.branch_changed())
    return version


def _merge_rerun(stream: Stream, contemplation_id: int) -> None:
    async_to_sync(_forget_last_attempt)(stream)
    run_merge.delay(contemplation_id=contemplation_id)


def turn_enqueue(turn: Turn) -> None:
    """Hand the turn's model calls to a worker (its rows are committed)."""
    if turn.run is not None:
        turn.run.enqueue()


def _rerun(turn: Turn) -> None:
    async_to_sync(_forget_last_attempt)(turn.answer.stream)
    turn_enqueue(turn)


async def _forget_last_attempt(stream: Stream) -> None:
    """A retried answer reuses its stream: forget the last attempt's Stop, and
    replace its lease's tombstone (a redelivery guard) with a reservation."""
    await stopping.clear(stream)
    await leases.reserve(stream)


async def answer_stop(*, message: Message) -> None:
    """Stop the answer and, when contemplating, every agent still drafting."""
    if message.status != Message.Status.STREAMING:
        raise InvalidMessage("That answer has already finished.")
    agent_streams = await database_sync_to_async(agent_selectors.drafting_agent_streams)(message=message)
    await stopping.request_stop(message.stream, *agent_streams)


@transaction.atomic
def conversation_delete(*, conversation: Conversation) -> None:
    """Delete a conversation with everything in it. What still runs in it is
    stopped, and its slots given back once the delete commits: no task will
    end it now (a contemplation deleted while drafting never merges)."""
    owner_id = conversation.user_id
    streams = [Stream.answer(pk) for pk in conversation.messages.filter(status=Message.Status.STREAMING)
               .values_list("pk", flat=True)]
    streams += agent_selectors.drafting_agent_streams(conversation=conversation)
    chat.conversation_delete(conversation=conversation)
    if streams:
        transaction.on_commit(lambda: async_to_sync(_let_go)(owner_id, streams))


def temporary_chats_expire(*, now: datetime | None = None) -> int:
    """Delete every temporary chat whose last message is more than
    MUSE_TEMPORARY_HOURS old, each as its person's Delete would (what runs
    stopped, slots given back); how many went. Run by every worker now and
    then (museapp/streams/reaper.py chores): a chat two workers find is
    deleted once."""
    cutoff = (now or timezone.now()) - timedelta(hours=settings.MUSE_TEMPORARY_HOURS)
    deleted = 0
    for pk in list(Conversation.objects.filter(is_temporary=True, updated_at__lt=cutoff).values_list("pk", flat=True)):
        deleted += _temporary_chat_expire(pk, cutoff)
    return deleted


@transaction.atomic
def _temporary_chat_expire(pk: int, cutoff: datetime) -> int:
    # Locked as a turn locks it: a message sent meanwhile keeps the chat.
    conversation = (Conversation.objects.select_for_update()
                    .filter(pk=pk, is_temporary=True, updated_at__lt=cutoff).first())
    if conversation is None:  # deleted by another worker, or written in since
        return 0
    conversation_delete(conversation=conversation)
    return 1


async def _let_go(owner_id: int, streams: list[Stream]) -> None:
    await stopping.request_stop(*streams)
    for stream in streams:
        await running.release(owner_id=owner_id, stream=stream)


def conversation_set_preferences(*, conversation: Conversation, contemplate: bool | None = None,
                                 strategy: str | None = None, judge: str | None = None,
                                 auto: bool | None = None, roster: str | None = None) -> Conversation:
    """The Contemplating switches (on, Auto) and the merge menu (strategy and
    judge), remembered per conversation."""
    if contemplate is not None:
        conversation.contemplate = contemplate
    if auto is not None:
        conversation.auto_contemplate = auto
    if roster is not None:
        conversation.agent_roster = clean_roster(roster)
    if strategy is not None:
        conversation.merge_strategy = clean_strategy(strategy)
    if judge is not None:
        conversation.judge_model = clean_judge(judge)
    conversation.save(update_fields=["contemplate", "auto_contemplate", "agent_roster", "merge_strategy",
                                     "judge_model", "updated_at"])
    return conversation


def clean_roster(roster: object) -> str:
    """A roster of models on offer ("" for the default), or InvalidMessage."""
    text = str(roster or "").strip()[:300]
    try:
        return "+".join(f"{n}x{m}" for n, m in _counted(rosters.roster_models(text))) if text else ""
    except rosters.InvalidRoster as refused:
        raise InvalidMessage(str(refused)) from None


def _counted(models: list[str]) -> list[tuple[int, str]]:
    """["A", "A", "B"] -> [(2, "A"), (1, "B")]."""
    runs: list[tuple[int, str]] = []
    for model in models:
        if runs and runs[-1][1] == model:
            runs[-1] = (runs[-1][0] + 1, model)
        else:
            runs.append((1, model))
    return runs


def clean_strategy(strategy: object) -> str:
    if strategy not in strategies.STRATEGIES:
        raise InvalidMessage(strategies.UNKNOWN_STRATEGY)
    return strategy


def clean_judge(judge: object) -> str:
    """A model on offer (MUSE_MODELS) to judge the merge, or "" for the default."""
    if judge == "":
        return ""
    if not any(choice.id == judge for choice in available_models()):
        raise InvalidMessage("That judge model is not on offer here.")
    return judge
