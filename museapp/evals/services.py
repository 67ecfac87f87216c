"""Running an evaluation through Muse's own pipeline.

Each problem is asked as a new conversation of the evaluation's own account,
with ``turn_start``: the same services, Celery tasks, model adapter, merge and
accounting as a person's chat. The answer is waited on by its id and status,
then graded. Every step is a row, so a killed run resumes where it stopped.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import close_old_connections, connection, transaction
from django.utils import timezone

from museapp.agents.models import AgentRun, Contemplation
from museapp.agents.roles import briefs, temperature_range
from museapp.chat.models import INTERRUPTED_REASON, Conversation, Message
from museapp.chat.services import preferences_for
from museapp.evals import grading
from museapp.evals.conditions import Condition, parse_condition
from museapp.evals.models import EvalItem, EvalRun
from museapp.evals.problems import Problem, problem_set
from museapp.evals.report import run_report
from museapp.llm import local
from museapp.llm.config import system_prompt
from museapp.streams.running import longest_answer_seconds
from museapp.turns.services import AtCapacity, turn_start

EVALUATION_USERNAME = "muse-evaluation"
POLL_SECONDS = 0.2


def model_settings(model: str) -> dict:
    """What decides the answers besides the model: a change starts a new run."""
    return {
        "system_prompt": system_prompt(model),
        "max_tokens": settings.MUSE_MAX_TOKENS,
        "agent_models": settings.MUSE_AGENT_MODELS,
        "agent_temperatures": list(temperature_range(model)),
        "agent_anchor": settings.MUSE_AGENT_ANCHOR,
        "logprobs": settings.MUSE_LOGPROBS,
        "agent_briefs": briefs(model),
        "merge_model": settings.MUSE_MERGE_MODEL,
        "quorum": settings.MUSE_QUORUM,
        "agreement_stop": settings.MUSE_AGREEMENT_STOP,
        **({"local": local.sampling()} if local.is_local(model) else {}),
    }


def run_open(*, model: str, conditions: list[Condition], sets: list[str], n: int, seed: int,
             fresh: bool = False) -> tuple[EvalRun, bool]:
    """The unfinished run with these settings (resumed), or a new one with
    every item pending; True when it was resumed."""
    names = [c.name for c in conditions]
    chosen = model_settings(model)
    key = hashlib.sha256(json.dumps([model, names, sets, n, seed, chosen], sort_keys=True).encode()).hexdigest()
    resumable = EvalRun.objects.filter(key=key, status=EvalRun.Status.RUNNING).first()
    if resumable and not fresh:
        return resumable, True
    problems = [p for name in sets for p in problem_set(name, n=n, seed=seed)]
    with transaction.atomic():
        run = EvalRun.objects.create(key=key, model=model, conditions=names, sets=sets, n=n, seed=seed,
                                     settings=chosen)
        # Problem by problem, every condition in turn: a run cut short is still paired.
        EvalItem.objects.bulk_create(
            EvalItem(run=run, condition=condition, problem_set=p.set, problem_index=p.index, problem=p.as_dict())
            for p in problems for condition in names
        )
    return run, False


class EvaluationAccountTaken(Exception):
    """An account of the evaluation's name that the evaluation did not make."""


def evaluation_account():
    """The account the evaluation asks as, made here inactive and with no
    usable password: nobody can log in to it, and sign-up refuses its name
    (museapp/accounts/reserved.py). Its conversations are flagged so insights
    leave them out."""
    user, created = get_user_model().objects.get_or_create(
        username=EVALUATION_USERNAME, defaults={"is_active": False, "password": make_password(None)})
    reason = "" if created else _not_ours_because(user)
    if reason:
        raise EvaluationAccountTaken(
            f"The account {EVALUATION_USERNAME!r} was not made by the evaluation: {reason}. Whoever uses it "
            "would see every evaluation conversation and could change the answers. Delete or rename that "
            "account (the admin's Users page), then run again: the evaluation makes its own, which nobody "
            "can log in to.")
    return user


def _not_ours_because(user) -> str:
    if user.has_usable_password():
        return "it has a usable password (someone may have signed up as it)"
    if user.is_active:
        return "it is active"
    if user.is_staff or user.is_superuser:
        return "it is a staff account"
    if preferences_for(user_id=user.pk).instructions:
        return "it has custom instructions"
    return ""


def run_items(run: EvalRun, *, concurrency: int, on_graded: Callable[[EvalItem], None] = lambda item: None) -> None:
    """Ask and grade every item not graded yet, ``concurrency`` at a time."""
    user = evaluation_account()
    pending = list(run.items.exclude(status=EvalItem.Status.GRADED).order_by("id"))
    with ThreadPoolExecutor(max_workers=max(concurrency, 1), thread_name_prefix="evaluate") as pool:
        futures = [pool.submit(_in_own_connection, item_run, item=item, user=user, model=run.model)
                   for item in pending]
        for future in as_completed(futures):
            on_graded(future.result())


def _in_own_connection(function, **kwargs):
    try:
        return function(**kwargs)
    finally:
        connection.close()  # this thread's


def item_run(*, item: EvalItem, user, model: str) -> EvalItem:
    """Ask the item's problem (unless its answer is already under way), wait
    for the answer to end, and grade it."""
    close_old_connections()
    if item.status == EvalItem.Status.PENDING or not Message.objects.filter(pk=item.message_id).exists():
        item = item_ask(item=item, user=user, model=model)
    answer = answer_wait(message_id=item.message_id)
    if answer.error == INTERRUPTED_REASON:  # its worker died (a killed run's): the model never finished
        item = item_ask(item=item, user=user, model=model)
        answer = answer_wait(message_id=item.message_id)
    return item_grade(item=item, answer=answer)


def item_ask(*, item: EvalItem, user, model: str) -> EvalItem:
    """Ask the problem as a new conversation's first message. The item links
    its answer in the turn's own transaction: a run killed at any moment
    never asks a problem twice."""
    condition = parse_condition(item.condition)
    problem = Problem.from_dict(item.problem)
    deadline = time.monotonic() + longest_answer_seconds()
    while True:
        try:
            with transaction.atomic():
                conversation = Conversation.objects.create(user=user, model=model, is_evaluation=True,
                                                           title=f"Evaluation {item.run_id}: {item}")
                turn = turn_start(conversation=conversation, text=problem.prompt, contemplate=condition.contemplate,
                                  strategy=condition.strategy, agents_count=condition.agents or None,
                                  roster=condition.roster or None)
                item.message, item.status = turn.answer, EvalItem.Status.ASKED
                item.save(update_fields=["message", "status"])
            return item
        except AtCapacity:  # the account's earlier answers (say, of a killed run) are still finishing
            if time.monotonic() > deadline:
                raise
            time.sleep(1)


def answer_wait(*, message_id: int, timeout: float | None = None) -> Message:
    """The answer once it has ended (done, failed or stopped)."""
    deadline = time.monotonic() + (timeout or longest_answer_seconds())
    while True:
        answer = Message.objects.filter(pk=message_id).exclude(status=Message.Status.STREAMING).first()
        if answer is not None:
            return answer
        if time.monotonic() > deadline:
            raise TimeoutError(f"answer {message_id} did not end in time")
        time.sleep(POLL_SECONDS)


def item_grade(*, item: EvalItem, answer: Message) -> EvalItem:
    problem = Problem.from_dict(item.problem)
    grade = grading.grade(problem, answer.content if answer.status == Message.Status.DONE else "")
    item.answer, item.answer_status = answer.content, answer.status
    item.extracted, item.correct = grade.extracted[:200], grade.correct
    item.prompt_tokens, item.completion_tokens, item.cost = answer.prompt_tokens, answer.completion_tokens, answer.cost
    item.wall_ms = answer.total_ms
    contemplation = Contemplation.objects.filter(message=answer).first()
    if contemplation is not None:
        _grade_drafts(item, problem, contemplation)
    item.status = EvalItem.Status.GRADED
    item.save()
    return item


def _grade_drafts(item: EvalItem, problem: Problem, contemplation: Contemplation) -> None:
    texts = contemplation.runs.filter(kind=AgentRun.Kind.AGENT).exclude(text="").values_list("text", flat=True)
    grades = [grading.grade(problem, text) for text in texts]
    readings = {g.extracted for g in grades}
    item.drafts = len(grades)
    item.drafts_right = sum(g.correct for g in grades)
    item.drafts_agree = len(grades) > 1 and len(readings) == 1 and "" not in readings
    item.strategy_used = contemplation.strategy_used
    item.early_stop = contemplation.early_stop


def run_regrade(run: EvalRun) -> dict:
    """Grade a run's answers again (after the grading changed), asking nothing."""
    for item in run.items.filter(status=EvalItem.Status.GRADED).select_related("message"):
        if item.message is not None:
            item_grade(item=item, answer=item.message)
    return run_finish(run)


def run_finish(run: EvalRun) -> dict:
    """Compute and keep the report, once every item is graded."""
    report = run_report(run)
    EvalRun.objects.filter(pk=run.pk).update(status=EvalRun.Status.DONE, report=report, finished_at=timezone.now())
    run.refresh_from_db()
    return report
