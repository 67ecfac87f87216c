"""Thumbs on answers, reasons and comments, and best-draft picks."""

import pytest
from django.db import IntegrityError, transaction

from museapp.agents.models import AgentRun, Contemplation
from museapp.chat.models import Conversation, Message
from museapp.feedback.models import BestDraftPick, Rating

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


@pytest.fixture
def answer(user):
    conversation = Conversation.objects.create(user=user, title="Rated")
    Message.objects.create(conversation=conversation, author="user", content="2+2?")
    return Message.objects.create(conversation=conversation, author="assistant", content="4", status="done")


@pytest.fixture
def logged_in(client, user):
    client.force_login(user)
    return client


def pressed(html: str, name: str) -> bool:
    import re

    button = re.search(rf'<button[^>]*aria-label="{name}"[^>]*>', html).group(0)
    return 'aria-pressed="true"' in button


def test_a_finished_answer_shows_both_thumbs_unpressed(logged_in, answer):
    page = logged_in.get(f"/c/{answer.conversation_id}/").content.decode()

    assert not pressed(page, "Thumbs up") and not pressed(page, "Thumbs down")


def test_thumbs_up_rates_the_answer_and_shows_it_pressed(logged_in, user, answer):
    response = logged_in.post(f"/m/{answer.pk}/rate/", {"value": "up"}, headers=HTMX)

    html = response.content.decode()
    assert response.status_code == 200
    assert pressed(html, "Thumbs up") and not pressed(html, "Thumbs down")
    assert "What was good?" in html
    assert Rating.objects.get(user=user, message=answer).value == 1
    assert pressed(logged_in.get(f"/c/{answer.conversation_id}/").content.decode(), "Thumbs up")


def test_pressing_the_pressed_thumb_removes_the_rating(logged_in, answer):
    logged_in.post(f"/m/{answer.pk}/rate/", {"value": "up"}, headers=HTMX)
    html = logged_in.post(f"/m/{answer.pk}/rate/", {"value": "up"}, headers=HTMX).content.decode()

    assert not pressed(html, "Thumbs up")
    assert not Rating.objects.exists()


def test_pressing_the_other_thumb_switches_the_rating_and_clears_old_reasons(logged_in, user, answer):
    logged_in.post(f"/m/{answer.pk}/rate/", {"value": "up"}, headers=HTMX)
    logged_in.post(f"/m/{answer.pk}/rate/why/", {"reasons": ["accurate", "clear"], "comment": "nice"}, headers=HTMX)

    html = logged_in.post(f"/m/{answer.pk}/rate/", {"value": "down"}, headers=HTMX).content.decode()

    rating = Rating.objects.get(user=user, message=answer)
    assert rating.value == -1 and rating.reasons == [] and rating.comment == "nice"
    assert pressed(html, "Thumbs down") and not pressed(html, "Thumbs up")
    assert "What went wrong?" in html and "missed the question" in html


def test_reasons_and_a_comment_are_saved(logged_in, user, answer):
    logged_in.post(f"/m/{answer.pk}/rate/", {"value": "down"}, headers=HTMX)

    response = logged_in.post(f"/m/{answer.pk}/rate/why/",
                              {"reasons": ["too long", "wrong"], "comment": "  It rambled.  "}, headers=HTMX)

    assert response.status_code == 200
    rating = Rating.objects.get(user=user, message=answer)
    assert rating.reasons == ["wrong", "too long"]
    assert rating.comment == "It rambled."


@pytest.mark.parametrize("fields, error", [
    ({"reasons": ["creative"]}, "Unknown reason: creative"),
    ({"comment": "x" * 1001}, "at most 1,000 characters"),
])
def test_bad_reasons_or_a_long_comment_are_refused_and_change_nothing(logged_in, user, answer, fields, error):
    logged_in.post(f"/m/{answer.pk}/rate/", {"value": "down"}, headers=HTMX)

    response = logged_in.post(f"/m/{answer.pk}/rate/why/", fields, headers=HTMX)

    assert response.status_code == 400 and error in response.content.decode()
    rating = Rating.objects.get(user=user, message=answer)
    assert rating.reasons == [] and rating.comment == ""


def test_the_database_allows_one_rating_per_person_per_answer(user, answer):
    Rating.objects.create(user=user, message=answer, value=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        Rating.objects.create(user=user, message=answer, value=-1)


def test_the_database_refuses_a_rating_other_than_up_or_down(user, answer):
    with pytest.raises(IntegrityError), transaction.atomic():
        Rating.objects.create(user=user, message=answer, value=5)


def test_someone_elses_answer_cannot_be_rated(client, other_user, answer):
    client.force_login(other_user)

    for path in (f"/m/{answer.pk}/rate/", f"/m/{answer.pk}/rate/why/", f"/m/{answer.pk}/best-draft/"):
        assert client.post(path, {"value": "up", "run_id": "1"}, headers=HTMX).status_code == 404
    assert not Rating.objects.exists()


@pytest.mark.parametrize("bad_id", ["abc", "0", "1" * 30, "999999"])
def test_unknown_answer_ids_are_a_404(logged_in, bad_id):
    assert logged_in.post(f"/m/{bad_id}/rate/", {"value": "up"}).status_code == 404


def test_an_answer_still_streaming_or_failed_cannot_be_rated(logged_in, answer):
    for status in ("streaming", "error"):
        Message.objects.filter(pk=answer.pk).update(status=status)
        response = logged_in.post(f"/m/{answer.pk}/rate/", {"value": "up"}, headers=HTMX)
        assert response.status_code == 400
        assert "Only a finished or stopped answer can be rated" in response.content.decode()
    assert not Rating.objects.exists()


def test_a_stopped_answer_says_so_with_its_tokens_and_shows_both_thumbs(logged_in, answer):
    Message.objects.filter(pk=answer.pk).update(status="stopped", completion_tokens=1204)

    html = logged_in.get(f"/c/{answer.conversation_id}/").content.decode()

    assert "Stopped after 1,204 tokens." in html
    assert not pressed(html, "Thumbs up") and not pressed(html, "Thumbs down")


def test_a_stopped_answer_is_rated_like_a_finished_one(logged_in, user, answer):
    Message.objects.filter(pk=answer.pk).update(status="stopped")

    response = logged_in.post(f"/m/{answer.pk}/rate/", {"value": "down"}, headers=HTMX)

    assert response.status_code == 200
    assert pressed(response.content.decode(), "Thumbs down")
    assert Rating.objects.get(user=user, message=answer).value == -1


def test_rating_must_be_posted(logged_in, answer):
    assert logged_in.get(f"/m/{answer.pk}/rate/").status_code == 405


@pytest.fixture
def contemplated(answer):
    contemplation = Contemplation.objects.create(message=answer, strategy="vote", agent_count=2, deadline_s=60,
                                                 status="done")
    runs = [AgentRun.objects.create(contemplation=contemplation, index=i, role=role, model="m", text=f"draft {i}",
                                    status="done") for i, role in enumerate(["Direct solver", "Skeptic"])]
    return answer, runs


def test_a_contemplated_answer_offers_best_draft_on_each_panel(logged_in, contemplated):
    answer, runs = contemplated

    page = logged_in.get(f"/c/{answer.conversation_id}/").content.decode()

    assert page.count(">Best draft</button>") == 2


def test_picking_a_best_draft_records_it_and_a_new_pick_replaces_it(logged_in, user, contemplated):
    answer, runs = contemplated

    html = logged_in.post(f"/m/{answer.pk}/best-draft/", {"run_id": runs[1].pk}, headers=HTMX).content.decode()
    assert BestDraftPick.objects.get(user=user, message=answer).run == runs[1]
    assert html.count('aria-pressed="true">Best draft') == 1

    logged_in.post(f"/m/{answer.pk}/best-draft/", {"run_id": runs[0].pk}, headers=HTMX)
    assert list(BestDraftPick.objects.values_list("run_id", flat=True)) == [runs[0].pk]


def test_a_draft_from_another_answer_cannot_be_picked(logged_in, user, contemplated):
    answer, runs = contemplated
    other = Message.objects.create(conversation=answer.conversation, author="assistant", content="x", status="done")
    elsewhere = Contemplation.objects.create(message=other, strategy="vote", agent_count=2, deadline_s=60)
    foreign_run = AgentRun.objects.create(contemplation=elsewhere, index=0, role="r", model="m", text="t")

    response = logged_in.post(f"/m/{answer.pk}/best-draft/", {"run_id": foreign_run.pk}, headers=HTMX)

    assert response.status_code == 400
    assert "not part of this answer" in response.content.decode()
    assert not BestDraftPick.objects.exists()
