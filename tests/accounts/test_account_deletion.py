"""Delete my account: with the password, the person and every row of theirs
are gone, and they are logged out; with a wrong one, nothing is deleted.
Another person's rows stay."""

import pytest
from django.core.files.base import ContentFile
from django.apps import apps
from django.contrib.auth import get_user_model
from django.test import Client

from museapp.agents.models import AgentRun, Comparison, Contemplation
from museapp.chat import services as chat
from museapp.chat.models import Conversation, Message, Preferences
from museapp.feedback.models import BestDraftPick, Rating
from museapp.sharing.models import SharedLink
from museapp.files.models import Attachment

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse 42"  # the user fixture's


def everything_of(user) -> None:
    """A conversation with a contemplated, compared, rated answer; a draft
    picked; custom instructions; a shared link."""
    conversation = Conversation.objects.create(user=user, title=f"{user.username}'s chat")
    Message.objects.create(conversation=conversation, author="user", content="Name a tea")
    answer = Message.objects.create(conversation=conversation, author="assistant", content="Sencha.", status="done")
    contemplation = Contemplation.objects.create(message=answer, strategy="consensus", agent_count=2, deadline_s=60)
    draft = AgentRun.objects.create(contemplation=contemplation, index=0, role="Skeptic", model="m", text="Sencha.")
    quick = AgentRun.objects.create(contemplation=contemplation, kind="quick", index=0, role="Quick answer", model="m")
    Comparison.objects.create(contemplation=contemplation, quick_run=quick, contemplated_position=1, choice="same")
    Rating.objects.create(user=user, message=answer, value=1)
    BestDraftPick.objects.create(user=user, message=answer, run=draft)
    SharedLink.objects.create(conversation=conversation, token=f"{user.username}-token".ljust(43, "x"),
                              title=conversation.title)
    attachment = Attachment(user=user, conversation=conversation, name="tea.txt", size=5, kind="text",
                            media_type="text/plain", status="ready", text="green")
    attachment.file.save("tea.txt", ContentFile(b"green"))
    chat.preferences_update(user=user, about_me="I like tea.", answer_style="", instructions_on=True,
                            contemplate_new_chats=False, compare_answers=True)


def rows_of(user_id: int) -> dict[str, int]:
    return {
        "conversations": Conversation.objects.filter(user_id=user_id).count(),
        "messages": Message.objects.filter(conversation__user_id=user_id).count(),
        "contemplations": Contemplation.objects.filter(message__conversation__user_id=user_id).count(),
        "agent runs": AgentRun.objects.filter(contemplation__message__conversation__user_id=user_id).count(),
        "comparisons": Comparison.objects.filter(contemplation__message__conversation__user_id=user_id).count(),
        "ratings": Rating.objects.filter(user_id=user_id).count(),
        "draft picks": BestDraftPick.objects.filter(user_id=user_id).count(),
        "preferences": Preferences.objects.filter(user_id=user_id).count(),
        "shared links": SharedLink.objects.filter(conversation__user_id=user_id).count(),
        "attached files": Attachment.objects.filter(user_id=user_id).count(),
    }


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_deleting_with_the_password_removes_the_person_and_every_row_of_theirs(user, other_user):
    everything_of(user)
    everything_of(other_user)
    theirs = rows_of(other_user.pk)
    client = logged_in(user)

    response = client.post("/accounts/delete/", {"password": PASSWORD}, follow=True)

    assert "Your account and everything in it are deleted." in response.content.decode()
    assert not get_user_model().objects.filter(pk=user.pk).exists()
    assert set(rows_of(user.pk).values()) == {0}
    assert rows_of(other_user.pk) == theirs, "another person's rows stay"
    assert all(count for count in theirs.values())
    assert client.get("/").status_code == 302, "logged out"


def test_every_model_that_names_a_person_is_covered_by_the_check():
    """A new model with a person's rows must join rows_of above."""
    covered = {Conversation, Message, Contemplation, AgentRun, Comparison, Rating, BestDraftPick, Preferences,
               SharedLink, Attachment}
    muse_models = {model for model in apps.get_models() if model.__module__.startswith("museapp.")
                   and not model.__module__.startswith("museapp.evals")}
    assert muse_models == covered


def test_a_wrong_password_deletes_nothing(user):
    everything_of(user)
    before = rows_of(user.pk)
    client = logged_in(user)

    response = client.post("/accounts/delete/", {"password": "not my password"})

    assert response.status_code == 400
    assert "That is not your password. Nothing was deleted." in response.content.decode()
    assert get_user_model().objects.filter(pk=user.pk).exists()
    assert rows_of(user.pk) == before


def test_settings_offers_it_and_the_page_says_what_it_removes(user):
    client = logged_in(user)

    settings_page = client.get("/settings/").content.decode()
    page = client.get("/accounts/delete/").content.decode()

    assert 'href="/accounts/delete/">Delete my account</a>' in settings_page
    assert "cannot be undone" in page and ">Delete my account</button>" in page


def test_someone_logged_out_is_sent_to_log_in():
    response = Client().post("/accounts/delete/", {"password": PASSWORD})

    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
