"""An attacker with an account cannot read, change or rate anything of
another person's: every URL that names a conversation or a message answers
a foreign id with 404, read or posted (with a valid CSRF token), and nothing
of the owner's changes. The chat socket's 4404 is tested in
tests/chat/test_consumer.py; pages that need the export permission (tests/feedback/)."""

import pytest
from django.core.files.base import ContentFile
from django.test import Client

from museapp.agents.models import AgentRun, Contemplation
from museapp.chat.models import Conversation, Message
from museapp.feedback.models import BestDraftPick, Rating
from museapp.files.models import Attachment
from museapp.sharing.models import SharedLink
from tests.security.test_csrf import CHANGES, READS, path_of

pytestmark = pytest.mark.django_db

NAMES_WITH_AN_ID = sorted(name for name in READS | set(CHANGES)
                          if name.startswith(("chat:", "feedback:", "sharing:", "exports:"))
                          and name not in {"chat:home", "chat:new", "chat:dismiss_local_notice", "chat:settings",
                                           "chat:search", "feedback:insights", "feedback:export", "sharing:shared",
                                           "exports:my_data"})


@pytest.fixture
def victims_answer(user):
    conversation = Conversation.objects.create(user=user, title="Private plans", model="openai/fake-model")
    Message.objects.create(conversation=conversation, author="user", content="my secret question")
    answer = Message.objects.create(conversation=conversation, author="assistant", content="my secret answer",
                                    status="done")
    SharedLink.objects.create(conversation=conversation, token="V" * 43, title="Private plans",
                              messages=[{"author": "user", "content": "my secret question",
                                         "created_at": "2026-01-01T00:00:00+00:00"}])
    contemplation = Contemplation.objects.create(message=answer, strategy="vote", agent_count=2, deadline_s=60)
    AgentRun.objects.create(contemplation=contemplation, index=0, role="Skeptic", model="m", text="draft",
                            status="done")
    attachment = Attachment(user=user, conversation=conversation, name="plans.txt", size=14, kind="text",
                            media_type="text/plain", status="ready", text="my secret file")
    attachment.file.save("plans.txt", ContentFile(b"my secret file"))
    return answer


@pytest.fixture
def attacker(other_user):
    browser = Client()  # a real session, with CSRF tokens as the site hands them out
    browser.force_login(other_user)
    return browser


def test_the_list_covers_every_url_that_names_something(victims_answer):
    assert NAMES_WITH_AN_ID == ["chat:attachment", "chat:attachment_download", "chat:attachment_remove",
                                "chat:attachment_upload", "chat:delete", "chat:detail", "chat:older", "chat:pick_model", "chat:pin",
                                "chat:preferences", "chat:rename", "chat:sidebar", "chat:temporary", "chat:unpin",
                                "exports:json", "exports:markdown",
                                "feedback:best_draft", "feedback:compare", "feedback:explain", "feedback:rate",
                                "feedback:use_draft",
                                "sharing:share", "sharing:stop"]


@pytest.mark.parametrize("name", NAMES_WITH_AN_ID)
def test_a_foreign_id_is_a_404_to_read(attacker, victims_answer, name):
    response = attacker.get(path_of(name, victims_answer))

    # Pages answer 404; URLs that only change things answer GET with 405 before looking anything up.
    assert response.status_code == (404 if name in READS else 405)
    assert b"my secret" not in response.content


@pytest.mark.parametrize("name", sorted(set(NAMES_WITH_AN_ID) & set(CHANGES)))
def test_a_foreign_id_is_a_404_to_change_and_nothing_changes(attacker, victims_answer, name):
    run = AgentRun.objects.get()
    data = {**CHANGES[name], "run_id": str(run.pk)} if name == "feedback:best_draft" else CHANGES[name]

    response = attacker.post(path_of(name, victims_answer), data)

    assert response.status_code == 404
    assert b"my secret" not in response.content
    conversation = Conversation.objects.get(pk=victims_answer.conversation_id)
    assert (conversation.title, conversation.model, conversation.contemplate, conversation.pinned_at,
            conversation.is_temporary) == ("Private plans", "openai/fake-model", False, None, False)
    assert conversation.messages.count() == 2
    assert not Rating.objects.exists() and not BestDraftPick.objects.exists()
    assert Attachment.objects.get().name == "plans.txt", "the victim's file stays, and no file is added"
    link = SharedLink.objects.get()
    assert (link.token, link.include_drafts, len(link.messages)) == ("V" * 43, False, 1), "the victim's link stays"


def test_the_attackers_own_list_shows_nothing_of_the_victims(attacker, victims_answer):
    page = attacker.get("/").content.decode()

    assert "Private plans" not in page and "my secret" not in page


def test_the_victims_shared_link_is_not_in_the_attackers_settings(attacker, victims_answer):
    page = attacker.get("/settings/").content.decode()

    assert "Private plans" not in page and "V" * 43 not in page


def test_the_attackers_download_of_their_data_holds_nothing_of_the_victims(attacker, victims_answer):
    response = attacker.get("/settings/my-data.json")
    text = b"".join(response.streaming_content).decode()

    assert response.status_code == 200
    assert "Private plans" not in text and "my secret" not in text and "draft" not in text.replace("draft_picks", "")
