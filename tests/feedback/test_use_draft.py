""""Use this draft": a person makes one agent's draft a new version of the
turn's answer; the merged answer stays the version before."""

import html

import pytest

from museapp.agents.models import AgentRun, Contemplation
from museapp.chat.context import model_context
from museapp.chat.models import Conversation, Message
from museapp.feedback.models import BestDraftPick

pytestmark = pytest.mark.django_db


@pytest.fixture
def answer(user):
    conversation = Conversation.objects.create(user=user, title="Primes")
    Message.objects.create(conversation=conversation, author="user", content="Is 91 prime?")
    message = Message.objects.create(conversation=conversation, author="assistant", content="Merged answer.",
                                     status="done", model="openai/fake-model")
    contemplation = Contemplation.objects.create(message=message, strategy="consensus", agent_count=2,
                                                 deadline_s=60, status="done")
    for index, (role, text) in enumerate([("Direct solver", "Draft zero."), ("Skeptic", "No: 91 = 7 × 13.")]):
        AgentRun.objects.create(contemplation=contemplation, index=index, role=role, model="openai/fake-model",
                                text=text, status="done")
    return message


def use(client, message, run):
    return client.post(f"/m/{message.pk}/use-draft/", {"run_id": run.pk}, headers={"HX-Request": "true"})


def skeptic(message) -> AgentRun:
    return AgentRun.objects.get(contemplation__message=message, index=1)


def version_of(answer) -> Message:
    """The answer's newest version: the one the conversation shows."""
    return Message.objects.filter(parent_id=answer.parent_id, author="assistant").latest("pk")


def test_using_a_draft_adds_a_version_with_the_draft_and_keeps_the_merged_one(client, user, answer):
    client.force_login(user)

    response = use(client, answer, skeptic(answer))

    version = version_of(answer)
    assert response.status_code == 204, "the page is shown the new version by its socket"
    page = html.unescape(client.get(f"/c/{answer.conversation_id}/").content.decode())
    assert f'<article id="msg-{version.pk}"' in page and f'<article id="msg-{answer.pk}"' not in page
    assert '<div class="body markdown" data-answer-text><p>No: 91 = 7 × 13.</p>' in page
    assert "You made the Skeptic's draft the answer." in page
    assert "2 / 2" in page and "Draft by the Skeptic, chosen by you" in page
    assert page.count('aria-pressed="true">Use this draft') == 1
    assert (version.content, version.status, version.contemplation.draft_used) == ("No: 91 = 7 × 13.", "done", 1)
    answer.refresh_from_db()
    assert answer.content == "Merged answer." and answer.contemplation.draft_used is None
    assert Conversation.objects.get(pk=answer.conversation_id).current_leaf_id == version.pk
    assert BestDraftPick.objects.get(user=user, message=answer).run == skeptic(answer)


def test_without_htmx_using_a_draft_leads_back_to_the_conversation(client, user, answer):
    client.force_login(user)

    response = client.post(f"/m/{answer.pk}/use-draft/", {"run_id": skeptic(answer).pk})

    assert response.status_code == 302 and response["Location"] == f"/c/{answer.conversation_id}/"


def test_the_new_version_keeps_the_drafts_and_the_contemplations_figures(client, user, answer):
    Contemplation.objects.filter(message=answer).update(wall_ms=1200, agreement=2)
    client.force_login(user)

    use(client, answer, skeptic(answer))

    copy = version_of(answer).contemplation
    assert [(run.role, run.text) for run in copy.agent_runs] == [
        ("Direct solver", "Draft zero."), ("Skeptic", "No: 91 = 7 × 13.")]
    assert (copy.wall_ms, copy.agent_count, copy.origin) == (1200, 2, "draft_chosen")


def test_later_turns_read_the_draft_that_was_used(client, user, answer):
    client.force_login(user)
    use(client, answer, skeptic(answer))

    context = model_context(conversation_id=answer.conversation_id)

    assert context[-1] == {"role": "assistant", "content": "No: 91 = 7 × 13."}


def test_each_draft_used_is_a_version_of_its_own(client, user, answer):
    client.force_login(user)
    use(client, answer, AgentRun.objects.get(contemplation__message=answer, index=0))
    first = version_of(answer)
    use(client, first, skeptic(first))

    versions = list(Message.objects.filter(parent_id=answer.parent_id, author="assistant").order_by("pk"))
    assert [v.content for v in versions] == ["Merged answer.", "Draft zero.", "No: 91 = 7 × 13."]
    assert [v.contemplation.version_label for v in versions] == [
        "Merged", "Draft by the Direct solver, chosen by you", "Draft by the Skeptic, chosen by you"]


def test_the_draft_already_shown_is_not_used_twice(client, user, answer):
    client.force_login(user)
    use(client, answer, skeptic(answer))
    version = version_of(answer)

    response = use(client, version, skeptic(version))

    assert response.status_code == 400 and "That draft is already the answer." in response.content.decode()
    assert Message.objects.filter(parent_id=answer.parent_id, author="assistant").count() == 2


def test_a_draft_of_another_answer_is_refused_and_changes_nothing(client, user, answer):
    other = Message.objects.create(conversation=answer.conversation, author="assistant", content="x", status="done")
    client.force_login(user)

    response = use(client, other, skeptic(answer))

    assert response.status_code == 400 and "That draft is not part of this answer." in response.content.decode()
    other.refresh_from_db()
    assert other.content == "x"


def test_an_answer_still_streaming_cannot_take_a_draft(client, user, answer):
    Message.objects.filter(pk=answer.pk).update(status="streaming")
    client.force_login(user)

    response = use(client, answer, skeptic(answer))

    assert response.status_code == 400
    answer.refresh_from_db()
    assert answer.content == "Merged answer."
    assert Message.objects.filter(parent_id=answer.parent_id, author="assistant").count() == 1
