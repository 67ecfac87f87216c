"""A judge's text that names the drafts or runs away is not shown as the
answer: the best draft is, the coordination line says so, and the judge's
text stays under Details. Through the real merge (socket, worker, Redis),
the judge's replies scripted on the fake model."""

import html
import re

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

QUESTION = "How many moons has Mars?"
SURE = "Mars has two moons, Phobos and Deimos.\n\nFinal answer: 2"
UNSURE = "Mars may have three moons.\n\nFinal answer: 3"
COUNTING = "Relied on: A, B, C, D\n\nMars has 2 moons: " + ", ".join(str(n) for n in range(2126297, 2126397))


@pytest.fixture
def conversation(user):
    return Conversation.objects.create(user=user, title="Moons")


def drafts_split_two_and_two(llm) -> None:
    """Two sure drafts say 2, two unsure ones 3: no majority, so the judge writes."""
    for role, text, logprob in [("Direct solver", SURE, -0.05), ("Step-by-step reasoner", UNSURE, -3.0),
                                ("Skeptic", UNSURE, -3.0), ("Explorer", SURE, -0.05)]:
        llm.script(QUESTION, Reply(text=text, logprob=logprob), system=f"You are the {role}")


@sync_to_async
def merged(conversation) -> tuple[Contemplation, AgentRun]:
    contemplation = Contemplation.objects.select_related("message").get(message__conversation=conversation)
    return contemplation, contemplation.runs.get(kind=AgentRun.Kind.MERGE)


async def synthesized(user, conversation) -> str:
    socket = await open_chat(user, conversation.pk)
    frames = Frames(socket)
    await send(socket, message=QUESTION, contemplate="on", strategy="synthesize")
    await frames.until(lambda text: 'data-author="assistant"' in text)
    answer = await answer_of(conversation)
    await frames.until(answer_ended(answer.pk), timeout=30)
    await socket.disconnect()
    return frames.text


def final_render(frames_text: str, answer_id: int) -> str:
    """The answer's article as the page last received it."""
    start = frames_text.rindex(f'<article id="msg-{answer_id}"')
    return frames_text[start:frames_text.index("</article>", start)]


async def test_a_judges_reply_that_names_the_drafts_is_replaced_by_the_best_draft(user, conversation, llm):
    drafts_split_two_and_two(llm)
    llm.script(QUESTION, Reply(text="Relied on: A, B, C, D\n\nDraft A and Draft D agree: Mars has two moons.",
                               token_delay=0.01), system="judge")

    frames_text = await synthesized(user, conversation)

    contemplation, judge = await merged(conversation)
    assert contemplation.message.content == SURE
    assert contemplation.judge_fallback == "named the drafts"
    shown = final_render(frames_text, contemplation.message.pk)
    assert re.search(r"The judge's text named the drafts, so the best draft is shown \(the (Direct solver|Explorer)'s\)\.",
                     html.unescape(shown))
    answer_body = shown.split('data-answer-text>')[1].split("</div>")[0]
    assert "Phobos and Deimos" in answer_body and "Draft A" not in answer_body
    assert "The judge's text, not shown as the answer" in html.unescape(shown)
    assert "Draft A and Draft D agree" in html.unescape(shown.split("coordination-more")[1])
    assert judge.text.endswith("Draft A and Draft D agree: Mars has two moons.")


async def test_a_judges_reply_that_counts_upward_is_replaced_by_the_best_draft(user, conversation, llm):
    drafts_split_two_and_two(llm)
    llm.script(QUESTION, Reply(text=COUNTING), system="judge")

    frames_text = await synthesized(user, conversation)

    contemplation, judge = await merged(conversation)
    assert contemplation.message.content == SURE
    assert contemplation.judge_fallback == "ran away (a run with no words)"
    shown = html.unescape(final_render(frames_text, contemplation.message.pk))
    assert "The judge's text ran away (a run with no words), so the best draft is shown (the " in shown
    assert "2126297" not in shown.split('data-answer-text>')[1].split("</div>")[0]
    assert "2126297, 2126298" in shown.split("coordination-more")[1]
    assert "2126396" in judge.text


async def test_a_sound_judges_reply_is_the_answer(user, conversation, llm):
    drafts_split_two_and_two(llm)
    llm.script(QUESTION, Reply(text="Relied on: A, D\n\nMars has two small moons, Phobos and Deimos."), system="judge")

    await synthesized(user, conversation)

    contemplation, _ = await merged(conversation)
    assert contemplation.message.content == "Mars has two small moons, Phobos and Deimos."
    assert contemplation.judge_fallback == ""
