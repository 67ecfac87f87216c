"""What may change a merged answer, and what its end keeps: "Merge again"
adds a version and keeps the judge first picked and the contemplation's
figures, "Use this draft" then "Merge again" leaves a version each, a draft
is never used while a merge runs again, a merge whose worker died keeps the
text it streamed, and an agent retried after its merge gives its person's slot back
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
from museapp.streams.run import StreamStatus
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
    assert merging.merge_plan(contemplation_id=again.contemplation.pk).model == "openai/fake-model"


def test_merge_again_adds_a_version_merging_the_same_drafts_and_keeps_the_one_before(conversation):
    answer = merged(conversation)
    Contemplation.objects.filter(message=answer).update(wall_ms=1200)

    again = turns.merge_again(message=answer)

    answer.refresh_from_db()
    assert again.pk != answer.pk and again.parent_id == answer.parent_id and again.status == "streaming"
    assert (answer.status, answer.content) == ("done", "Mars has two moons.")
    assert Conversation.objects.get(pk=conversation.pk).current_leaf_id == again.pk
    merging_again = again.contemplation
    assert (merging_again.status, merging_again.origin, merging_again.wall_ms) == ("merging", "merged_again", 1200)
    plan = merging.merge_plan(contemplation_id=merging_again.pk)
    assert plan.again and len(plan.drafts) == 3 and plan.message_id == again.pk


def test_a_finished_merge_again_keeps_the_contemplations_time_and_gives_the_answer_the_merges_own(conversation):
    answer = merged(conversation)
    Contemplation.objects.filter(message=answer).update(wall_ms=1200)
    AgentRun.objects.filter(contemplation__message=answer).update(completion_tokens=100)
    again = turns.merge_again(message=answer)
    plan = merging.merge_plan(contemplation_id=again.contemplation.pk)

    merging.merge_finish(plan=plan, result=merging.MergeResult("Two: Phobos and Deimos.", StreamStatus.DONE,
                                                               strategy_used="consensus", note="Again."))

    merged_again = Contemplation.objects.get(message=again)
    again.refresh_from_db()
    assert (merged_again.status, merged_again.wall_ms) == ("done", 1200)  # the fold line's "4 agents · 1.2 s"
    assert again.content == "Two: Phobos and Deimos." and again.total_ms < 1200
    assert not again.completion_tokens  # the drafts (300 tokens) were counted on the version they were written for
    assert merged_again.version_label == "Merged again"


def test_use_this_draft_then_merge_again_leaves_three_versions_each_labelled(user, conversation):
    answer = merged(conversation)
    explorer = AgentRun.objects.get(contemplation__message=answer, role="Explorer")

    chosen = feedback.draft_use(user=user, message=answer, run_id=explorer.pk)
    again = turns.merge_again(message=Message.objects.select_related("conversation").get(pk=chosen.pk))

    versions = Message.objects.filter(parent_id=answer.parent_id, author="assistant").order_by("pk")
    assert [v.pk for v in versions] == [answer.pk, chosen.pk, again.pk]
    assert [v.contemplation.version_label for v in versions] == [
        "Merged", "Draft by the Explorer, chosen by you", "Merged again"]
    assert chosen.content == "Phobos and Deimos.\n\nFinal answer: 2"


def test_a_draft_cannot_be_used_while_its_answer_is_being_merged_again(user, conversation):
    answer = merged(conversation)  # as the page loaded it, before "Merge again" was pressed elsewhere
    draft = AgentRun.objects.filter(contemplation__message=answer, role="Direct solver").get()
    turns.merge_again(message=Message.objects.select_related("conversation").get(pk=answer.pk))

    with pytest.raises(feedback.InvalidFeedback, match="still answering"):
        feedback.draft_use(user=user, message=answer, run_id=draft.pk)

    assert Contemplation.objects.get(message=answer).draft_used is None
    assert not BestDraftPick.objects.filter(message=answer).exists()


def test_a_merge_whose_worker_died_keeps_what_it_streamed(conversation):
    answer = merged(conversation)
    again = turns.merge_again(message=answer)
    async_to_sync(livetext.record)(again.stream, "Mars has two small moons, Pho", 1, recorded_bytes=0)

    reaping.close_merge(again.contemplation.pk, again.stream)

    again.refresh_from_db()
    assert (again.status, again.content, again.error) == ("error", "Mars has two small moons, Pho",
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
