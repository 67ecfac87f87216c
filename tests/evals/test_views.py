"""The evaluations page (/insights/evals/) for analysts: every run, finished
or still going."""

import pytest

from museapp.evals.models import EvalItem, EvalRun
from museapp.evals.report import run_report
from tests.markup import parse_html

pytestmark = pytest.mark.django_db


def graded(run, condition, index, correct, tokens):
    return EvalItem.objects.create(run=run, condition=condition, problem_set="facts", problem_index=index,
                                   problem={}, status="graded", correct=correct, answer_status="done",
                                   prompt_tokens=tokens, completion_tokens=tokens, wall_ms=1000.0)


def test_a_finished_run_shows_each_condition_and_its_point_on_the_chart(client, analyst):
    run = EvalRun.objects.create(key="k", model="openai/fake-model", conditions=["quick", "vote:4"],
                                 sets=["facts"], n=2, seed=1, status="done", settings={"agreement_stop": True})
    for index in range(2):
        graded(run, "quick", index, index == 0, 10)
        graded(run, "vote:4", index, True, 80)
    EvalRun.objects.filter(pk=run.pk).update(report=run_report(run))
    client.force_login(analyst)

    page = client.get("/insights/evals/").content.decode()

    assert f'data-eval-run="{run.pk}" data-status="done"' in page
    assert '<td class="accuracy">50.0%</td>' in page and '<td class="accuracy">100.0%</td>' in page
    assert '<td class="versus">+50.0</td>' in page
    assert page.count('<g class="condition') == 2
    assert 'text-anchor="end">vote:4</text>' in page, "the right-most label stays inside the chart"
    assert "agreement_stop" in page, "the run's settings are shown"


def test_a_run_in_progress_shows_how_far_it_has_got(client, analyst):
    run = EvalRun.objects.create(key="k", model="openai/fake-model", conditions=["quick"], sets=["facts"], n=3,
                                 seed=1)
    graded(run, "quick", 0, True, 10)
    for index in (1, 2):
        EvalItem.objects.create(run=run, condition="quick", problem_set="facts", problem_index=index, problem={})
    client.force_login(analyst)

    page = client.get("/insights/evals/").content.decode()

    assert "in progress: 1 of 3 answers graded" in page
    assert '<td class="accuracy">100.0%</td>' in page


def test_with_no_run_the_page_says_how_to_make_one(client, analyst):
    client.force_login(analyst)

    assert "python manage.py evaluate" in client.get("/insights/evals/").content.decode()


def test_the_page_shows_what_auto_would_do_and_the_best_choice_per_budget(client, analyst, user):
    from museapp.chat.models import Conversation, Message

    run = EvalRun.objects.create(key="k", model="openai/fake-model", conditions=["quick", "vote:4"],
                                 sets=["facts"], n=4, seed=1, status="done", settings={})
    conversation = Conversation.objects.create(user=user)
    for index, (confidence, quick_right, vote_right) in enumerate([(-2.0, False, True), (-0.1, True, True),
                                                                   (-0.2, True, False), (-0.3, False, False)]):
        item = graded(run, "quick", index, quick_right, 10)
        item.message = Message.objects.create(conversation=conversation, author="assistant", content="",
                                              confidence=confidence)
        item.save()
        graded(run, "vote:4", index, vote_right, 80)
    EvalRun.objects.filter(pk=run.pk).update(report=run_report(run))
    client.force_login(analyst)

    page = client.get("/insights/evals/").content.decode()

    assert "Auto: contemplating only unsure quick answers" in page
    [first] = [row for row in parse_html(page).all("tr", **{"data-condition": "auto:vote:4"})
               if row.all("td")[0].text == "-0.300"]
    assert [cell.text for cell in first.all("td")] == ["-0.300", "25.0%", "75.0%", "+25.0", "3.00", "1.00"]  # (4 x 20 + 160) / 4 tokens against 20
    assert "Up to 1.0× a quick answer's tokens: <strong>quick</strong>" in page
