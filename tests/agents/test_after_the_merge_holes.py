"""What may change a merged answer, and what its end keeps: "Merge again"
keeps the judge first picked, "Use this draft" never lands on a merge
already running again, a merge whose worker died keeps the text it
streamed, and an agent retried after its merge gives its person's slot back
when its worker dies. Services and the reaper's closes, on real Redis; no
worker (nothing here is enqueued: the test's transaction never commits)."""

import pytest
from asgiref.sync import async_to_sync

from museapp.agents import merging, reaping
from museapp.agents.models import AgentRun, Contemplation
from museapp.agents.tasks import run_agent, run_merge
from museapp.chat.models import INTERRUPTED_REASON, Conversation, Message
from museapp.feedback import services as feedback
from museapp.feedback.models import BestDraftPick
from museapp.streams import leases, livetext
from museapp.streams.leased import SKIPPED
from museapp.turns import services as turns
from tests.conftest import holds_slot

pytestmark = pytest.mark.django_db


def merged(conversation) -> Message:
    """A contemplated answer, merged: four drafts done, the Skeptic's failed."""
    answer = turns.turn_start(conversation=conversation, text="How many moons has Mars?", contemplate=True).answer
    runs = AgentRun.objects.filter(contemplation__message=answer, kind=AgentRun.Kind.AGENT)
    runs.update(status=AgentRun.Status.DONE, text="Phobos and Deimos.\n\nFinal answer: 2")
    runs.filter(role="Skeptic").update(status=AgentRun.Status.FAILED, text="", error="overloaded")
    Contemplation.objects.filter(message=answer).update(status=Contemplation.Status.DONE)
    Message.objects.filter(pk=answer.pk).update(status=Message.Status.DONE, content="Mars has two moons.")
    return Message.objects.select_related("conversation").get(pk=answer.pk)


def test_merge_again_keeps_the_judge_when_the_conversation_has_moved_to_another_model(conversation):
    answer = merged(conversation)
    Conversation.objects.filter(pk=conversation.pk).update(model="openai/fake-model-2")

    again = turns.merge_again(message=answer)

    assert again.model == answer.model == "openai/fake-model"
    assert merging.merge_plan(contemplation_id=answer.contemplation.pk).model == "openai/fake-model"


def test_a_draft_cannot_be_used_once_its_answer_is_being_merged_again(user, conversation):
    answer = merged(conversation)  # as the page loaded it, before "Merge again" was pressed elsewhere
    draft = AgentRun.objects.filter(contemplation__message=answer, role="Direct solver").get()
    turns.merge_again(message=Message.objects.select_related("conversation").get(pk=answer.pk))

    with pytest.raises(feedback.InvalidFeedback, match="merging the drafts again"):
        feedback.draft_use(user=user, message=answer, run_id=draft.pk)

    assert Contemplation.objects.get(message=answer).draft_used is None
    assert not BestDraftPick.objects.filter(message=answer).exists()


def test_a_merge_whose_worker_died_keeps_what_it_streamed(conversation):
    answer = merged(conversation)
    turns.merge_again(message=answer)
    async_to_sync(livetext.record)(answer.stream, "Mars has two small moons, Pho", 1, recorded_bytes=0)

    reaping.close_merge(answer.contemplation.pk, answer.stream)

    answer.refresh_from_db()
    assert (answer.status, answer.content, answer.error) == ("error", "Mars has two small moons, Pho",
                                                             INTERRUPTED_REASON)


def test_an_agent_retried_after_its_merge_gives_its_slot_back_when_its_worker_dies(user, conversation):
    answer = merged(conversation)
    skeptic = AgentRun.objects.get(contemplation__message=answer, role="Skeptic")
    turns.agent_retry(message=answer, run_id=skeptic.pk)
    assert holds_slot(user, skeptic.stream)

    reaping.close_agent(skeptic.pk, skeptic.stream)

    assert not holds_slot(user, skeptic.stream)
    assert AgentRun.objects.get(pk=skeptic.pk).status == AgentRun.Status.FAILED


def test_a_retried_agents_redelivery_skipped_after_the_reaper_closed_it_gives_its_slot_back(user, conversation):
    answer = merged(conversation)
    skeptic = AgentRun.objects.get(contemplation__message=answer, role="Skeptic")
    turns.agent_retry(message=answer, run_id=skeptic.pk)
    AgentRun.objects.filter(pk=skeptic.pk).interrupt(reason="Interrupted: the worker running this agent stopped.")
    async_to_sync(leases.release)(skeptic.stream, state=leases.REAPED)  # what the reaper leaves behind

    status = run_agent(run_id=skeptic.pk, contemplation_id=answer.contemplation.pk, conversation_id=conversation.pk,
                       message_id=answer.pk, role="Skeptic", call={}, deadline=0, retried_by=user.pk)

    assert status == SKIPPED
    assert not holds_slot(user, skeptic.stream)


def test_a_merge_planned_after_its_conversation_was_deleted_is_skipped(user, conversation):
    answer = merged(conversation)
    contemplation_id = answer.contemplation.pk
    turns.conversation_delete(conversation=conversation)

    assert run_merge(contemplation_id=contemplation_id) == SKIPPED
