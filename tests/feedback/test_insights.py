"""The insights page and the feedback export, on a seeded fixture. Who may
see them: tests/feedback/test_permissions.py."""

import csv
import io
import json
from decimal import Decimal

import pytest
from django.core.management import call_command

from museapp.agents.models import AgentRun, Contemplation
from museapp.chat.models import Conversation, Message
from museapp.feedback.insights import report, wilson
from museapp.feedback.models import BestDraftPick, Rating

# Committed rows: the insights page runs its queries on parallel connections.
pytestmark = pytest.mark.django_db(transaction=True)


def answer(conversation, *, ms, cost="0.001", contemplated=None, content="answer", failed=0):
    Message.objects.create(conversation=conversation, author="user", content=f"question for {content}")
    message = Message.objects.create(conversation=conversation, author="assistant", content=content, status="done",
                                     total_ms=ms, cost=Decimal(cost), model="openai/fake-model",
                                     prompt_tokens=10, completion_tokens=20)
    if contemplated:
        strategy, agents = contemplated
        contemplation = Contemplation.objects.create(message=message, strategy=strategy, strategy_used=strategy,
                                                     agent_count=agents, deadline_s=60, status="done",
                                                     relied_on=[0], drafts_failed=failed, drafts_cut_off=0)
        for index in range(agents):
            AgentRun.objects.create(contemplation=contemplation, index=index, role=f"role {index}",
                                    model="openai/fake-model", text=f"draft {index} of {content}", status="done")
    return message


@pytest.fixture
def seeded(user):
    conversation = Conversation.objects.create(user=user)
    quick = [answer(conversation, ms=100 * (i + 1), content=f"q{i}") for i in range(10)]
    for i, message in enumerate(quick):
        Rating.objects.create(user=user, message=message, value=1 if i < 7 else -1,
                              comment="great" if i == 0 else "")
    deep = [answer(conversation, ms=5000, cost="0.004", contemplated=("vote", 4), content=f"d{i}", failed=i // 3)
            for i in range(4)]
    for message in deep:
        Rating.objects.create(user=user, message=message, value=1)
    return quick, deep


def test_people_without_the_export_permission_see_neither_insights_nor_exports(client, user):
    client.force_login(user)
    assert client.get("/insights/").status_code == 403
    assert client.get("/insights/export/").status_code == 403


def test_the_thumbs_up_rate_has_a_wilson_interval():
    low, high = wilson(7, 10)
    assert round(low, 4) == 0.3968 and round(high, 4) == 0.8922
    assert wilson(0, 0) is None


def test_the_report_splits_quick_from_contemplating_with_rates_latencies_and_cost(seeded):
    data = report(None)
    quick, deep = data["modes"]

    assert (quick.label, quick.answers, quick.rated, quick.ups) == ("Quick", 10, 10, 7)
    assert quick.rate == 0.7
    assert quick.p50_ms == pytest.approx(550.0) and quick.p95_ms == pytest.approx(955.0)
    assert quick.mean_cost == pytest.approx(0.001)
    assert (deep.label, deep.rated, deep.ups, deep.p50_ms) == ("Contemplating", 4, 4, 5000.0)
    assert deep.rate_per_cent == pytest.approx(1.0 / 0.4)
    assert [(r.label, r.rated) for r in data["strategies"]] == [("Vote", 4)]
    assert [(r.label, r.answers) for r in data["agent_counts"]] == [("4 agents", 4)]
    assert [(r.label, r.answers) for r in data["completeness"]] == [("Every draft merged", 3),
                                                                    ("Drafts lost (failed or cut off)", 1)]
    assert [c.comment for c in data["comments"]] == ["great"]


def test_a_rated_stopped_answer_counts_in_the_ratings_but_not_in_the_latency(user, seeded):
    stopped = answer(Conversation.objects.get(user=user), ms=50, content="stopped early")
    Message.objects.filter(pk=stopped.pk).update(status="stopped")
    Rating.objects.create(user=user, message=stopped, value=-1)

    quick = report(None)["modes"][0]

    assert (quick.answers, quick.rated, quick.ups) == (11, 11, 7)
    assert quick.p50_ms == pytest.approx(550.0), "the time until Stop is not an answer's latency"


def test_the_insights_page_shows_the_figures(client, analyst, seeded):
    client.force_login(analyst)
    page = client.get("/insights/?period=all").content.decode()

    assert "Quick versus contemplating" in page
    assert "70.0%" in page and "39.7%–89.2%" in page
    assert "100.0%" in page
    assert "<polyline" in page and "great" in page


def test_the_export_round_trips_as_jsonl_and_csv(seeded, tmp_path):
    call_command("export_feedback", "--format", "jsonl", "--output", str(tmp_path / "f.jsonl"))
    rows = [json.loads(line) for line in (tmp_path / "f.jsonl").read_text().splitlines()]
    assert len(rows) == 14
    first = rows[0]
    assert first["prompt"] == "question for q0" and first["answer"] == "q0"
    assert first["rating"] == "up" and first["mode"] == "quick" and first["comment"] == "great"
    assert {r["mode"] for r in rows} == {"quick", "contemplating"}
    assert next(r for r in rows if r["mode"] == "contemplating")["strategy"] == "vote"

    call_command("export_feedback", "--format", "csv", "--output", str(tmp_path / "f.csv"))
    table = list(csv.DictReader(io.StringIO((tmp_path / "f.csv").read_text())))
    assert len(table) == 14
    assert [r["answer"] for r in table] == [r["answer"] for r in rows]
    assert json.loads(table[0]["models"]) == ["openai/fake-model"]


def test_pairs_prefer_the_picked_draft_or_the_liked_answer_over_what_was_passed_over(user, seeded, tmp_path):
    _, deep = seeded
    picked = AgentRun.objects.get(contemplation__message=deep[0], index=2)
    BestDraftPick.objects.create(user=user, message=deep[0], run=picked)

    call_command("export_feedback", "--pairs", "--output", str(tmp_path / "p.jsonl"))
    pairs = [json.loads(line) for line in (tmp_path / "p.jsonl").read_text().splitlines()]

    from_pick = [p for p in pairs if p["message_id"] == deep[0].pk]
    assert {p["chosen"] for p in from_pick} == {"draft 2 of d0"}
    assert sorted(p["rejected"] for p in from_pick) == ["draft 0 of d0", "draft 1 of d0", "draft 3 of d0"]
    from_thumbs = [p for p in pairs if p["message_id"] == deep[1].pk]
    assert {p["chosen"] for p in from_thumbs} == {"d1"}
    assert sorted(p["rejected"] for p in from_thumbs) == ["draft 1 of d1", "draft 2 of d1", "draft 3 of d1"]
    assert all(set(p) == {"message_id", "prompt", "chosen", "rejected", "reason", "source"} and p["prompt"] for p in pairs)


def test_a_liked_answer_that_was_stopped_makes_no_pairs(seeded, tmp_path):
    _, deep = seeded
    Message.objects.filter(pk=deep[1].pk).update(status="stopped")

    call_command("export_feedback", "--pairs", "--output", str(tmp_path / "p.jsonl"))

    pairs = [json.loads(line) for line in (tmp_path / "p.jsonl").read_text().splitlines()]
    assert pairs and not [p for p in pairs if p["message_id"] == deep[1].pk], "its text was cut short"


def test_analysts_download_the_export(client, analyst, seeded):
    client.force_login(analyst)
    response = client.get("/insights/export/?format=csv")

    assert response["Content-Disposition"] == 'attachment; filename="muse-feedback.csv"'
    assert len(list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))) == 14


def test_a_single_day_is_drawn_as_points_and_the_cost_column_says_what_it_is(client, analyst, seeded):
    client.force_login(analyst)

    page = client.get("/insights/?period=7").content.decode()

    # Every rating of the fixture falls on one day: a line alone would draw nothing.
    assert page.count('class="dot quick"') == 1 and page.count('class="dot contemplating"') == 1
    assert "Thumbs up per cent spent" in page and "Up-rate" not in page
