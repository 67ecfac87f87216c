""""Use this draft": a person makes one agent's draft the turn's answer."""

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


def test_using_a_draft_makes_it_the_answer_and_keeps_the_merged_one(client, user, answer):
    client.force_login(user)

    response = use(client, answer, skeptic(answer))

    page = response.content.decode()
    assert response.status_code == 200
    assert '<div class="body markdown" data-answer-text><p>No: 91 = 7 × 13.</p>' in page
    assert "You made the Skeptic's draft the answer." in html.unescape(page)
    assert page.count('aria-pressed="true">Use this draft') == 1
    answer.refresh_from_db()
    contemplation = answer.contemplation
    assert answer.content == "No: 91 = 7 × 13."
    assert (contemplation.merged_text, contemplation.draft_used) == ("Merged answer.", 1)
    assert BestDraftPick.objects.get(user=user, message=answer).run == skeptic(answer)


def test_later_turns_read_the_draft_that_was_used(client, user, answer):
    client.force_login(user)
    use(client, answer, skeptic(answer))

    context = model_context(conversation_id=answer.conversation_id)

    assert context[-1] == {"role": "assistant", "content": "No: 91 = 7 × 13."}


def test_switching_drafts_keeps_the_merges_own_answer(client, user, answer):
    client.force_login(user)
    use(client, answer, AgentRun.objects.get(contemplation__message=answer, index=0))
    use(client, answer, skeptic(answer))

    contemplation = Contemplation.objects.get(message=answer)
    assert contemplation.merged_text == "Merged answer." and contemplation.draft_used == 1


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
