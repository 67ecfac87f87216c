"""An analyst reads a finished evaluation in a real browser: its figures per
condition and its accuracy-against-cost chart, with nothing blocked by the
Content-Security-Policy."""

import io

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from museapp.evals.problems import arithmetic
from tests.browser.test_chat_flow import sign_up
from tests.fakellm import Reply

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_analyst_sees_a_finished_evaluation_with_its_table_and_chart(page, llm, csp_violations,
                                                                        django_user_model):
    problems = arithmetic(3, seed=9)
    for index, problem in enumerate(problems):  # quick answers: right on the first two only
        answer = problem.accepted[0] if index < 2 else "0"
        llm.script(problem.prompt, Reply(text=f"Final answer: {answer}"))
        llm.script(problem.prompt, Reply(text=f"Final answer: {problem.accepted[0]}"), system="You are the")
    call_command("evaluate", "--conditions", "quick,consensus:2", "--set", "arithmetic", "--n", "3", "--seed", "9",
                 "--no-progress", "--json", "/dev/null", stdout=io.StringIO())

    sign_up(page, "lovelace")
    django_user_model.objects.filter(username="lovelace").update(is_superuser=True)
    page.goto("/insights/evals/")

    run = page.locator("[data-eval-run]").first
    expect(run).to_have_attribute("data-status", "done")
    expect(run.get_by_role("heading", level=2)).to_contain_text("Fake model")
    expect(run.locator('tr[data-condition="quick"] .accuracy')).to_have_text("66.7%")
    expect(run.locator('tr[data-condition="consensus:2"] .accuracy')).to_have_text("100.0%")
    expect(run.locator('tr[data-condition="consensus:2"] .versus')).to_have_text("+33.3")
    chart = run.get_by_role("img", name="Accuracy against mean tokens per answer")
    expect(chart.locator("g.condition")).to_have_count(2)
    expect(chart.locator('g[data-condition="consensus:2"] text')).to_have_text("consensus:2")
    assert csp_violations() == []
