"""`manage.py evaluate` end to end: a real worker, real Redis and the
database, and the fake model scripted so the conditions differ in a known
way. The report's figures are asserted exactly."""

from __future__ import annotations

import io
import json
import signal
import subprocess
import sys

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from museapp.chat.models import INTERRUPTED_REASON, Conversation, Message
from museapp.evals import services
from museapp.evals.conditions import parse_conditions
from museapp.evals.models import EvalItem, EvalRun
from museapp.evals.problems import arithmetic
from museapp.feedback.insights import answers_since
from museapp.llm.config import system_prompt
from tests.conftest import ROOT, process_env, wait_until
from tests.fakellm import Reply, split_tokens

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("celery_worker_process")]

ROLES = ["Direct solver", "Step-by-step reasoner", "Skeptic", "Explorer"]
PROBLEMS = arithmetic(4, seed=1)


def words(messages: list[dict]) -> int:
    """Prompt tokens as the fake model counts them."""
    return sum(len(str(m.get("content", "")).split()) for m in messages)


def right(problem) -> str:
    return f"Working it out.\nFinal answer: {problem.accepted[0]}"


def wrong(problem) -> str:
    return f"Working it out.\nFinal answer: {int(problem.accepted[0]) + 1}"


def script(llm) -> None:
    """Quick answers are right on problems 0 and 1 and wrong on 2 and 3.
    The agents: on 0 all right; on 1 all the same wrong answer; on 2 and 3
    three right and one wrong. The Explorer always answers last (the others
    settle first); on 0 and 1 the three before it already agree, so it is
    stopped early, before its first token."""
    assert len({p.prompt for p in PROBLEMS}) == 4
    assert not any(a.prompt in b.prompt for a in PROBLEMS for b in PROBLEMS if a is not b)
    for index, problem in enumerate(PROBLEMS):
        llm.script(problem.prompt, Reply(text=right(problem) if index < 2 else wrong(problem)))
        for role in ROLES:
            text = wrong(problem) if index == 1 or (index > 1 and role == "Skeptic") else right(problem)
            late = role == "Explorer"
            llm.script(problem.prompt, Reply(text=text, first_token_delay=2.0 if late else 0.0),
                       system=f"You are the {role}")


def evaluate(*args: str) -> str:
    out = io.StringIO()
    call_command("evaluate", *args, "--no-progress", stdout=out)
    return out.getvalue()


def row(report: dict, condition: str) -> dict:
    return next(r for r in report["conditions"] if r["condition"] == condition)


def test_vote_beats_quick_by_the_scripted_margin_and_the_report_says_so_exactly(llm, tmp_path):
    script(llm)
    output = evaluate("--conditions", "quick,vote:4", "--set", "arithmetic", "--n", "4", "--seed", "1",
                      "--json", str(tmp_path / "report.json"))
    report = json.loads((tmp_path / "report.json").read_text())
    quick, vote = row(report, "quick"), row(report, "vote:4")

    assert (quick["n"], quick["correct"], quick["accuracy"]) == (4, 2, 0.5)
    assert (vote["n"], vote["correct"], vote["accuracy"]) == (4, 3, 0.75)
    assert vote["vs_quick"] == 0.25 and (vote["wins"], vote["losses"]) == (2, 1)
    assert vote["mcnemar_p"] == 1.0
    assert vote["vs_quick_interval"][0] < 0.25 < vote["vs_quick_interval"][1]
    assert vote["unanimous_wrong"] == 0.25, "problem 1: every agent made the same mistake"
    assert vote["missed_right_draft"] == 0.0
    assert vote["stopped_early"] == 0.5, "problems 0 and 1 stopped the Explorer"

    quick_completion = [len(split_tokens(right(p) if i < 2 else wrong(p))) for i, p in enumerate(PROBLEMS)]
    assert quick["completion_tokens"] == sum(quick_completion) / 4
    quick_prompt = [words([{"content": system_prompt("openai/fake-model")}, {"content": p.prompt}]) for p in PROBLEMS]
    assert quick["prompt_tokens"] == sum(quick_prompt) / 4
    # Agents that wrote: three on problems 0 and 1 (the Explorer was stopped), four on 2 and 3.
    vote_completion = 3 * len(split_tokens(right(PROBLEMS[0]))) + 3 * len(split_tokens(wrong(PROBLEMS[1]))) + sum(
        3 * len(split_tokens(right(p))) + len(split_tokens(wrong(p))) for p in PROBLEMS[2:])
    assert vote["completion_tokens"] == vote_completion / 4
    agent_prompts = [words(r["messages"]) for p in PROBLEMS for r in llm.requests_matching(p.prompt)
                     if "You are the" in r["messages"][0]["content"]
                     and not (p in PROBLEMS[:2] and "You are the Explorer" in r["messages"][0]["content"])]
    assert vote["prompt_tokens"] == sum(agent_prompts) / 4

    assert "vote:4" in output and "75.0" in output and "+25.0" in output
    run = EvalRun.objects.get()
    assert run.status == EvalRun.Status.DONE and run.report["conditions"] == report["conditions"]


def test_the_evaluation_asks_as_its_own_account_and_insights_leave_it_out(llm, tmp_path):
    script(llm)
    evaluate("--conditions", "quick", "--set", "arithmetic", "--n", "2", "--json", str(tmp_path / "r.json"))
    conversations = Conversation.objects.all()
    assert conversations.count() == 2
    assert all(c.is_evaluation and c.user.username == "muse-evaluation" and not c.user.is_active
               for c in conversations)
    assert answers_since(None).count() == 0


def test_it_refuses_to_run_as_an_account_of_its_name_that_someone_signed_up_as(llm, django_user_model):
    script(llm)
    django_user_model.objects.create_user(username="muse-evaluation", password="violet kettle 7391")

    with pytest.raises(CommandError, match="'muse-evaluation' was not made by the evaluation: it has a usable "
                                          "password"):
        evaluate("--conditions", "quick", "--set", "arithmetic", "--n", "2")
    assert not EvalRun.objects.exists() and not Conversation.objects.exists() and not llm.requests


def test_a_killed_evaluation_resumes_where_it_stopped_and_asks_nothing_twice(llm, tmp_path):
    for problem in PROBLEMS:
        llm.script(problem.prompt, Reply(text=right(problem), token_delay=0.1))
    arguments = ["--conditions", "quick", "--set", "arithmetic", "--n", "4", "--concurrency", "1",
                 "--json", str(tmp_path / "report.json")]
    process = subprocess.Popen([sys.executable, "manage.py", "evaluate", *arguments, "--no-progress"], cwd=ROOT,
                               env=process_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    try:
        wait_until(lambda: EvalItem.objects.filter(status=EvalItem.Status.GRADED).count() >= 1, timeout=60,
                   message="the first graded answer")
        assert process.poll() is None, "the run must still be going when it is killed"
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    graded_before = EvalItem.objects.filter(status=EvalItem.Status.GRADED).count()
    assert graded_before < 4

    output = evaluate(*arguments)

    assert f"resuming, {graded_before} done" in output
    assert EvalRun.objects.count() == 1
    assert EvalItem.objects.filter(status=EvalItem.Status.GRADED).count() == 4
    assert [len(llm.requests_matching(p.prompt)) for p in PROBLEMS] == [1, 1, 1, 1]
    assert row(json.loads((tmp_path / "report.json").read_text()), "quick")["correct"] == 4


@pytest.mark.parametrize(("arguments", "reason"), [
    (["--conditions", "quick,ponder:4"], "unknown condition"),
    (["--conditions", "vote:12"], "2 to 8 agents"),
    (["--set", "trivia"], "unknown problem set"),
    (["--model", "openai/not-on-offer"], "not on offer"),
    (["--concurrency", "50"], "MUSE_MAX_RUNNING_ANSWERS"),
])
def test_bad_arguments_are_refused_with_the_reason_before_anything_is_asked(llm, arguments, reason):
    with pytest.raises(CommandError, match=reason):
        evaluate(*arguments)
    assert not EvalRun.objects.exists() and not llm.requests


def test_a_resumed_run_asks_again_a_problem_whose_answer_was_interrupted(llm, tmp_path, user):
    problem = PROBLEMS[0]
    llm.script(problem.prompt, Reply(text=right(problem)))
    arguments = ["--conditions", "quick", "--set", "arithmetic", "--n", "1", "--json", str(tmp_path / "r.json")]
    run, _ = services.run_open(model="openai/fake-model", conditions=parse_conditions("quick"), sets=["arithmetic"],
                               n=1, seed=1)
    # As a killed run leaves it once the reaper has closed the answer its dead worker held.
    conversation = Conversation.objects.create(user=user, is_evaluation=True)
    lost = Message.objects.create(conversation=conversation, author="assistant", status="error",
                                  error=INTERRUPTED_REASON, content="Working it o")
    run.items.update(status=EvalItem.Status.ASKED, message=lost)

    evaluate(*arguments)

    item = EvalItem.objects.get()
    assert item.message_id != lost.pk and item.correct and item.answer == right(problem)
    assert len(llm.requests_matching(problem.prompt)) == 1


def test_regrading_a_run_reads_its_answers_again_and_asks_nothing(llm, tmp_path):
    script(llm)
    evaluate("--conditions", "quick", "--set", "arithmetic", "--n", "4", "--json", str(tmp_path / "r.json"))
    run = EvalRun.objects.get()
    EvalItem.objects.update(correct=None, extracted="")
    asked = len(llm.requests)

    output = evaluate("--regrade", str(run.pk), "--json", str(tmp_path / "again.json"))

    assert len(llm.requests) == asked
    assert [i.correct for i in EvalItem.objects.order_by("problem_index")] == [True, True, False, False]
    assert "50.0" in output and row(json.loads((tmp_path / "again.json").read_text()), "quick")["correct"] == 2


def test_with_no_worker_running_it_prints_its_report_and_nothing_of_the_worker_it_starts(llm, tmp_path):
    for problem in PROBLEMS[:2]:
        llm.script(problem.prompt, Reply(text=right(problem)))
    data = tmp_path / "data"
    # A queue no worker consumes: the command starts its own worker on it (and its data in a directory of its own).
    finished = subprocess.run(
        [sys.executable, "manage.py", "evaluate", "--conditions", "quick", "--set", "arithmetic", "--n", "2",
         "--no-progress", "--json", str(tmp_path / "report.json")],
        cwd=ROOT, env=process_env(MUSE_QUEUE=f"evaluate-alone-{tmp_path.name}", MUSE_DATA_DIR=str(data)),
        capture_output=True, text=True, timeout=180)

    printed = finished.stdout + finished.stderr
    assert finished.returncode == 0, printed
    assert f"No worker is running: starting one for the evaluation (its log: {data / 'evals' / 'worker.log'})" in printed
    assert "accuracy" in printed and "Report: " in printed
    assert "celery@" not in printed and "muse-evaluate@" not in printed, "no worker banner"
    assert " INFO " not in printed and "succeeded in" not in printed, "no line per task"
    assert "muse-evaluate@" in (data / "evals" / "worker.log").read_text(), "the worker's log is kept in its file"
