"""Compare mode end to end: a contemplated turn also answered quickly (one
extra call, exactly quick mode's), both shown side by side only once both
are done, blind, in an order drawn per turn and kept."""

import re

import pytest
from asgiref.sync import sync_to_async

from django.test import Client

from museapp.agents.models import AgentRun, Comparison, Contemplation
from museapp.chat.context import model_context
from museapp.chat.models import Conversation, Message
from museapp.feedback.models import BestDraftPick, Rating
from tests.fakellm import Reply
from tests.sockets import answer_of, open_chat, send, Frames

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.asyncio,
    pytest.mark.usefixtures("celery_worker_process"),
]

ROLES = ["Direct solver", "Step-by-step reasoner", "Skeptic", "Explorer"]
QUESTION = "What is the capital of France?"


@pytest.fixture
def conversation(user):
    return Conversation.objects.create(user=user, title="Geography")


@pytest.fixture
def comparing(settings):
    settings.MUSE_COMPARE_RATE = 1.0


def script_drafts(llm, quick: Reply) -> None:
    llm.script(QUESTION, quick)  # the quick answer has no role in its system prompt
    for role in ROLES:
        llm.script(QUESTION, Reply(text="Paris is the capital.\n\nFinal answer: Paris"), system=f"You are the {role}")


async def contemplate(user, conversation):
    """Send the question with Contemplating on; the socket, its frames and the answer (once the turn is saved)."""
    socket = await open_chat(user, conversation.pk)
    frames = Frames(socket)
    await send(socket, message=QUESTION, contemplate="on", strategy="consensus")
    await frames.until(lambda text: 'data-author="assistant"' in text)
    return socket, frames, await answer_of(conversation)


def shown_as(answer_id: int, state: str):
    """This answer's own article, rendered in the comparison's ``state``."""
    article = re.compile(rf'<article id="msg-{answer_id}"[^>]*data-status="done"[^>]*>(?:(?!</article>).)*?'
                         rf'<section class="comparison" data-comparison="{state}"', re.S)
    return lambda text: article.search(text) is not None


def last_article(text: str, answer_id: int) -> str:
    return text[text.rindex(f'<article id="msg-{answer_id}"'):]


@sync_to_async
def comparison_of(answer) -> Comparison:
    return Comparison.objects.select_related("quick_run").get(contemplation__message=answer)


async def test_a_compared_turn_makes_one_extra_call_exactly_as_quick_mode_would(user, conversation, llm, comparing):
    script_drafts(llm, Reply(text="Paris, quickly.", token_delay=0.01))
    socket, frames, answer = await contemplate(user, conversation)

    await frames.until(shown_as(answer.pk, "ready"), timeout=30)

    requests = llm.requests_matching(QUESTION)
    quick_calls = [r for r in requests if "You are the" not in r["messages"][0]["content"]]
    assert len(requests) == 5 and len(quick_calls) == 1
    expected = await sync_to_async(model_context)(conversation_id=conversation.pk, before_id=answer.pk,
                                                  model="openai/fake-model")
    assert quick_calls[0]["messages"] == expected
    assert quick_calls[0]["model"] == "fake-model"
    await socket.disconnect()


async def test_both_answers_appear_together_blind_and_in_the_stored_order(user, conversation, llm, comparing):
    script_drafts(llm, Reply(text="Paris, quickly."))
    socket, frames, answer = await contemplate(user, conversation)

    text = await frames.until(shown_as(answer.pk, "ready"), timeout=30)

    comparison = await comparison_of(answer)
    shown = last_article(text, answer.pk)
    positions = re.findall(r'data-position="(\d)"[^>]*>\s*<h4[^>]*>Answer \d</h4>\s*<div class="body markdown">'
                           r'<p>([^<]*)', shown)
    expected = {comparison.contemplated_position: "Paris is the capital.", comparison.quick_position: "Paris, quickly."}
    assert [(int(p), t) for p, t in positions] == sorted(expected.items())
    assert f'<span id="msg-{answer.pk}-tail" hx-swap-oob="beforeend">' not in text, "the merge streamed nothing"
    assert "Drafts are shown after you compare the two answers." in text
    for telltale in ROLES + ["agree", "tokens", "Contemplating ("]:
        assert telltale not in shown.split("</article>")[0], telltale
    await socket.disconnect()


async def test_a_quick_answer_that_fails_voids_the_comparison_and_the_answer_shows_as_usual(
        user, conversation, llm, comparing):
    script_drafts(llm, Reply(status=500, error_message="quick is down"))
    socket, frames, answer = await contemplate(user, conversation)

    def shown_as_usual(text: str) -> bool:
        return bool(re.search(rf'<article id="msg-{answer.pk}"[^>]*data-status="done"', text)) and \
            "Paris is the capital." in last_article(text, answer.pk) and \
            "data-comparison" not in last_article(text, answer.pk).split("</article>")[0]

    await frames.until(lambda text: shown_as_usual(text) and "Drafts are shown after" not in
                       last_article(text, answer.pk).split("</article>")[0], timeout=30)

    comparison = await comparison_of(answer)
    assert comparison.quick_run.status == AgentRun.Status.FAILED and comparison.choice == ""
    await socket.disconnect()


AGENT_TEXT = re.compile(r'<span id="agent-\d+-tail" hx-swap-oob="beforeend">([^<]*)</span>')
AGENT_PROGRESS = re.compile(r'<span class="agent-stats" id="agent-\d+-stats" hx-swap-oob="true">\d+ tokens')


async def test_while_blind_the_pages_get_each_drafts_progress_and_none_of_its_text(
        user, conversation, llm, comparing):
    for role in ROLES:
        llm.script(QUESTION, Reply(text="Paris is the capital city of France.\n\nFinal answer: Paris",
                                   token_delay=0.02), system=f"You are the {role}")
    llm.script(QUESTION, Reply(text="Paris, quickly."))
    socket, frames, answer = await contemplate(user, conversation)

    text = await frames.until(shown_as(answer.pk, "ready"), timeout=30)

    before_the_choice = text[:text.index('data-comparison="ready"')]
    assert AGENT_PROGRESS.search(before_the_choice), "each panel counts its draft's tokens"
    assert set(AGENT_TEXT.findall(before_the_choice)) <= {""}, "no draft text reached the page"
    assert 'class="agent-body' not in before_the_choice
    assert "capital city" not in before_the_choice.split(f'<section class="comparison" data-comparison="ready"')[0]
    await socket.disconnect()


async def test_while_blind_drafts_cannot_be_used_or_picked_nor_the_answer_rated(user, conversation, llm, comparing):
    script_drafts(llm, Reply(text="Paris, quickly."))
    socket, frames, answer = await contemplate(user, conversation)
    await frames.until(shown_as(answer.pk, "ready"), timeout=30)
    draft = await AgentRun.objects.filter(contemplation__message=answer, kind="agent").afirst()
    merged = (await Message.objects.aget(pk=answer.pk)).content
    client = Client()
    await sync_to_async(client.force_login)(user)

    replies = [await sync_to_async(client.post)(f"/m/{answer.pk}/{action}/", data)
               for action, data in (("use-draft", {"run_id": draft.pk}), ("best-draft", {"run_id": draft.pk}),
                                    ("rate", {"value": "up"}))]

    for reply in replies:
        assert reply.status_code == 400
        assert "Choose between the two answers first" in reply.content.decode()
    assert (await Message.objects.aget(pk=answer.pk)).content == merged
    assert not await BestDraftPick.objects.filter(message=answer).aexists()
    assert not await Rating.objects.filter(message=answer).aexists()
    assert (await Contemplation.objects.aget(message=answer)).draft_used is None
    await socket.disconnect()
