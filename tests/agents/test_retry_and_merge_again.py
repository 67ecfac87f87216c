"""More control after the merge: "Retry this agent" runs one failed agent
again, and "Merge again" writes a new version of the answer from the drafts
as they are now. Over the socket, with a real worker."""

import asyncio
import re
import time

import pytest
from asgiref.sync import sync_to_async

from museapp.agents.models import AgentRun, Contemplation
from museapp.chat.models import Conversation
from tests.fakellm import Reply
from tests.sockets import Frames, answer_ended, answer_of, open_chat, send

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.asyncio,
    pytest.mark.usefixtures("celery_worker_process"),
]

ROLES = ["Direct solver", "Step-by-step reasoner", "Skeptic", "Explorer"]
QUESTION = "How many moons has Mars?"


@pytest.fixture
def conversation(user):
    return Conversation.objects.create(user=user, title="Moons")


def script(llm) -> None:
    """Three agents say two; the Skeptic fails once, then says two as well."""
    for role in ROLES:
        llm.script(QUESTION, Reply(text=f"{role}: Phobos and Deimos.\n\nFinal answer: 2"), system=f"You are the {role}")
    llm.script(QUESTION, Reply(status=500, error_message="overloaded"), times=1, system="You are the Skeptic")


@sync_to_async
def skeptic_of(conversation) -> AgentRun:
    """The Skeptic of the newest version's contemplation."""
    return AgentRun.objects.filter(contemplation__message__conversation=conversation, role="Skeptic").latest("pk")


@sync_to_async
def contemplation_of(conversation) -> Contemplation:
    """The newest version's contemplation."""
    return Contemplation.objects.filter(message__conversation=conversation).latest("pk")


@sync_to_async
def draft_texts(conversation) -> set[str]:
    runs = AgentRun.objects.filter(contemplation__message__conversation=conversation, kind=AgentRun.Kind.AGENT)
    return {run.text.strip() for run in runs}


async def merged_after(conversation, earlier, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        contemplation = await contemplation_of(conversation)
        if contemplation.status == "done" and contemplation.finished_at and contemplation.finished_at > earlier:
            return
        assert time.monotonic() < deadline, f"the merge again was not saved ({contemplation.status})"
        await asyncio.sleep(0.05)


async def new_version(conversation, of: int, timeout: float = 10.0):
    """The answer's new version, once "Merge again" has made it."""
    deadline = time.monotonic() + timeout
    while (answer := await answer_of(conversation)).pk == of:
        assert time.monotonic() < deadline, "no new version was made"
        await asyncio.sleep(0.05)
    return answer


def panel(run_id: int, status: str):
    pattern = re.compile(rf'<details class="agent" id="agent-{run_id}"[^>]*data-status="{status}"')
    return lambda text: pattern.search(text) is not None


async def merged_with_a_failed_skeptic(user, conversation, llm):
    script(llm)
    socket = await open_chat(user, conversation.pk)
    frames = Frames(socket)
    await send(socket, message=QUESTION, contemplate="on", strategy="consensus")
    await frames.until(lambda text: 'data-author="assistant"' in text)
    answer = await answer_of(conversation)
    await frames.until(answer_ended(answer.pk), timeout=30)
    return socket, frames, answer


async def test_a_failed_agent_is_retried_and_the_merge_run_again_uses_its_draft(user, conversation, llm):
    socket, frames, answer = await merged_with_a_failed_skeptic(user, conversation, llm)
    skeptic = await skeptic_of(conversation)
    assert skeptic.status == "failed" and "Retry this agent" in frames.text
    assert (await contemplation_of(conversation)).drafts_failed == 1

    await send(socket, action="retry_agent", message_id=answer.pk, run_id=skeptic.pk)
    await frames.until(panel(skeptic.pk, "done"), timeout=30)
    await frames.until(lambda text: "Merge again" in text[text.rindex(f'<article id="msg-{answer.pk}"'):])
    merged_at = (await contemplation_of(conversation)).finished_at
    mark = len(frames.text)
    await send(socket, action="merge_again", message_id=answer.pk)
    # Wait for the new merge itself to be saved (a frame of the retried
    # agent's may still arrive after the mark), then for the page to show it.
    await merged_after(conversation, merged_at)
    again = await new_version(conversation, of=answer.pk)
    await frames.until(lambda text: answer_ended(again.pk)(text[mark:]) and "4 of 4 agree" in text[mark:],
                       timeout=30)

    contemplation = await contemplation_of(conversation)
    skeptic = await skeptic_of(conversation)
    assert again.pk != answer.pk and contemplation.message_id == again.pk
    assert skeptic.status == "done" and skeptic.text.startswith("Skeptic: Phobos")
    assert (contemplation.status, contemplation.agreement, contemplation.drafts_failed) == ("done", 4, 0)
    assert "4 of 4 agree" in frames.text[mark:] and "Merged again" in frames.text[mark:]
    await socket.disconnect()


async def test_an_agent_that_finished_cannot_be_retried(user, conversation, llm):
    socket, frames, answer = await merged_with_a_failed_skeptic(user, conversation, llm)
    done = await sync_to_async(AgentRun.objects.get)(contemplation__message=answer, role="Explorer")

    await send(socket, action="retry_agent", message_id=answer.pk, run_id=done.pk)

    await frames.contains("Only a failed or cut-off agent can be retried.")
    await socket.disconnect()


@pytest.mark.parametrize("run_id", [0, "x", None, 10**30])
async def test_an_agent_of_no_such_answer_is_refused(user, conversation, llm, run_id):
    socket, frames, answer = await merged_with_a_failed_skeptic(user, conversation, llm)

    await send(socket, action="retry_agent", message_id=answer.pk, run_id=run_id)

    await frames.contains("That agent is not part of this answer.")
    await socket.disconnect()


async def test_a_quick_answer_has_nothing_to_merge_again(user, conversation, llm):
    llm.script("plain question", Reply(text="Plain answer."))
    socket = await open_chat(user, conversation.pk)
    frames = Frames(socket)
    await send(socket, message="plain question")
    await frames.until(lambda text: 'data-author="assistant"' in text)
    answer = await answer_of(conversation)
    await frames.until(answer_ended(answer.pk), timeout=30)

    await send(socket, action="merge_again", message_id=answer.pk)

    await frames.contains("Only a contemplated answer has agents to retry or drafts to merge.")
    await socket.disconnect()


async def test_someone_elses_answer_cannot_be_merged_again(user, other_user, conversation, llm):
    socket, frames, answer = await merged_with_a_failed_skeptic(user, conversation, llm)
    theirs = await sync_to_async(Conversation.objects.create)(user=other_user)
    intruder = await open_chat(other_user, theirs.pk)
    intruder_frames = Frames(intruder)

    refused = "That message is not in this conversation."

    await send(intruder, action="merge_again", message_id=answer.pk)
    await intruder_frames.contains(refused)
    mark = len(intruder_frames.text)
    await send(intruder, action="retry_agent", message_id=answer.pk, run_id=(await skeptic_of(conversation)).pk)
    await intruder_frames.until(lambda text: refused in text[mark:])
    assert (await skeptic_of(conversation)).status == "failed"
    await socket.disconnect()
    await intruder.disconnect()


async def test_after_stop_the_drafts_written_so_far_can_be_merged(user, conversation, llm):
    question = "A long essay on rivers"
    for role in ROLES:
        llm.script(question, Reply(text=f"{role} writes about rivers. " * 200, token_delay=0.02),
                   system=f"You are the {role}")
    socket = await open_chat(user, conversation.pk)
    frames = Frames(socket)
    await send(socket, message=question, contemplate="on", strategy="consensus")
    await frames.until(lambda text: 'data-author="assistant"' in text)
    answer = await answer_of(conversation)
    await frames.until(lambda text: all(f"{role} writes about rivers." in text for role in ROLES))

    await send(socket, action="stop", message_id=answer.pk)
    await frames.until(answer_ended(answer.pk, "stopped"), timeout=30)
    await frames.until(lambda text: "Merge what&#x27;s there" in text[text.rindex(f'<article id="msg-{answer.pk}"'):]
                       or "Merge what's there" in text[text.rindex(f'<article id="msg-{answer.pk}"'):])
    mark = len(frames.text)
    await send(socket, action="merge_again", message_id=answer.pk)
    merged = await new_version(conversation, of=answer.pk)
    await frames.until(lambda text: answer_ended(merged.pk)(text[mark:]), timeout=30)

    merged = await answer_of(conversation)
    assert merged.pk != answer.pk, "a new version; the stopped answer stays the version before"
    assert merged.status == "done" and "writes about rivers." in merged.content
    assert merged.content.strip() in await draft_texts(conversation)
    await socket.disconnect()
