"""Contemplating mode end to end: the socket, a real Celery worker running the
agents in parallel, real Redis, and the fake model scripted per agent role."""

import html
import re
import time
from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from django.db import transaction
from django.utils import timezone

from museapp.agents.models import AgentRun, Contemplation
from museapp.chat.models import Conversation, Message
from museapp.agents import starting as agents
from museapp.chat import services as chat
from tests.fakellm import Reply, split_tokens
from tests.sockets import Frames, answer_ended, answer_of, close_code, open_chat, send, shown_in

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.asyncio,
    pytest.mark.usefixtures("celery_worker_process"),
]

ROLES = ["Direct solver", "Step-by-step reasoner", "Skeptic", "Explorer"]


@pytest.fixture
def conversation(user):
    return Conversation.objects.create(user=user, title="Deep thoughts")


def drafts(llm, question, texts, **reply_options):
    for role, text in zip(ROLES, texts, strict=True):
        llm.script(question, Reply(text=text, **reply_options), system=f"You are the {role}")


@sync_to_async
def contemplation_of(conversation) -> Contemplation:
    return Contemplation.objects.select_related("message").get(message__conversation=conversation)


@sync_to_async
def runs_of(contemplation) -> list[AgentRun]:
    return list(contemplation.runs.order_by("kind", "index"))


async def contemplate(user, conversation, question, strategy="synthesize"):
    socket = await open_chat(user, conversation.pk)
    frames = Frames(socket)
    await send(socket, message=question, contemplate="on", strategy=strategy)
    return socket, frames


def answer_done(text: str) -> bool:
    return bool(re.search(r'data-author="assistant" data-status="(done|error|stopped)"', text))


def agents_drafting(text: str, needle: str) -> set[str]:
    """The agent panels whose streamed text so far contains ``needle``."""
    streams = set(re.findall(r'<span id="(agent-\d+)-tail" hx-swap-oob="beforeend">', text))
    return {stream for stream in streams if needle in html.unescape("".join(
        re.findall(rf'<span id="{stream}-tail" hx-swap-oob="beforeend">([^<]*)</span>', text)))}


async def test_all_agents_stream_their_drafts_at_the_same_time(user, conversation, llm):
    drafts(llm, "parallel?", [f"{role} thinks " * 25 for role in ROLES], token_delay=0.03)
    socket, frames = await contemplate(user, conversation, "parallel?")
    text = await frames.until(answer_done, timeout=30)

    runs = [r for r in await runs_of(await contemplation_of(conversation)) if r.kind == "agent"]
    assert len(runs) == 4
    first_tokens = [text.index(f'id="agent-{run.pk}-tail" hx-swap-oob="beforeend"') for run in runs]
    first_done = min(m.start() for m in re.finditer(r'class="agent" id="agent-\d+" data-agent-index="\d" data-status="done"', text))
    assert max(first_tokens) < first_done, "every panel received tokens before any agent finished"
    assert all(run.status == "done" and run.completion_tokens == len(split_tokens(run.text)) for run in runs)
    assert 'hx-swap-oob="true">25 tokens' in text or "tokens · " in text, "panels show a live token count"
    await socket.disconnect()


async def test_agents_get_distinct_roles_a_greedy_anchor_and_a_temperature_ladder(user, conversation, llm):
    socket, frames = await contemplate(user, conversation, "who are you all?")
    await frames.until(answer_done, timeout=30)

    agent_requests = [r for r in llm.requests_matching("who are you all?") if "judge" not in str(r["messages"][0])]
    systems = sorted(r["messages"][0]["content"] for r in agent_requests)
    assert len(systems) == 4 and len(set(systems)) == 4
    assert sorted(r["temperature"] for r in agent_requests) == [0.0, 0.2, 0.6, 1.0]
    runs = await runs_of(await contemplation_of(conversation))
    assert [r.role for r in runs if r.kind == "agent"] == ROLES
    await socket.disconnect()


async def test_vote_tallies_short_answers_without_a_judge(user, conversation, llm):
    drafts(llm, "6 times 7?", ["Six sevens. Final answer: 42", "7+7+7+7+7+7 = 42\nFinal answer: 42.",
                               "Careful: 6*7 is 42, not 36. Final answer: 42", "Maybe 41?\nFinal answer: 41"],
           first_token_delay=0.5)
    # The dissenter finishes first, so the vote is never locked before its draft is in
    # (a locked vote would stop it: test_vote_stops_the_agents_it_no_longer_needs).
    llm.script("6 times 7?", Reply(text="Maybe 41?\nFinal answer: 41"), system="You are the Explorer")
    socket, frames = await contemplate(user, conversation, "6 times 7?", strategy="vote")
    text = await frames.until(answer_done, timeout=30)

    contemplation = await contemplation_of(conversation)
    assert contemplation.strategy_used == "vote"
    assert contemplation.tally == {"42": 3, "41": 1}
    assert contemplation.agreement == 3
    assert contemplation.message.content == "Six sevens. Final answer: 42"
    assert "4 agents · 3 of 4 agree" in text
    assert "Vote: 3× 42, 1× 41" in text
    assert not [r for r in llm.requests_matching("6 times 7?") if "judge" in r["messages"][0]["content"]]
    await socket.disconnect()


async def test_vote_stops_the_agents_it_no_longer_needs(user, conversation, llm):
    drafts(llm, "capital?", ["Final answer: Paris"] * 3 + ["I will ramble " * 200 + "Final answer: Paris"],
           token_delay=0.0)
    llm.script("capital?", Reply(text="I will ramble " * 200, token_delay=0.05), system="You are the Explorer")
    started = time.monotonic()
    socket, frames = await contemplate(user, conversation, "capital?", strategy="vote")
    await frames.until(answer_done, timeout=30)

    assert time.monotonic() - started < 5, "the slow agent did not hold the answer up"
    runs = await runs_of(await contemplation_of(conversation))
    explorer = next(r for r in runs if r.role == "Explorer")
    assert explorer.status == "stopped"
    assert ("I will ramble " * 200).startswith(explorer.text)
    assert len(explorer.text) < len("I will ramble " * 200), "stopped before it finished"
    assert (await contemplation_of(conversation)).message.content == "Final answer: Paris"
    await socket.disconnect()


async def test_any_strategy_stops_the_agents_once_the_others_agree_and_skips_the_judge(user, conversation, llm):
    reasoned = "The capital of France is Paris, on the Seine. " * 12 + "Final answer: Paris"
    drafts(llm, "capital again?", [reasoned] * 4)
    llm.script("capital again?", Reply(text="I will ramble " * 200, token_delay=0.05), system="You are the Explorer")
    socket, frames = await contemplate(user, conversation, "capital again?", strategy="synthesize")
    text = await frames.until(answer_done, timeout=30)

    contemplation = await contemplation_of(conversation)
    explorer = next(r for r in await runs_of(contemplation) if r.role == "Explorer")
    assert explorer.status == "stopped" and contemplation.early_stop == "agreement"
    assert contemplation.strategy_used == "unanimous" and contemplation.message.content == reasoned
    assert not [r for r in llm.requests_matching("capital again?") if "judge" in r["messages"][0]["content"]]
    assert contemplation.saved_tokens > 50, "the Explorer had most of a typical draft still to write"
    assert f"stopped early: 3 of 4 agreed · saved ~{contemplation.saved_tokens:,} tokens" in text
    assert "no judge was needed" in text
    await socket.disconnect()


async def test_a_quorum_merges_without_the_stragglers_and_shows_them_cut_off(user, conversation, llm, settings):
    settings.MUSE_QUORUM = 3
    drafts(llm, "quorum?", [f"One view. Final answer: {n}" for n in (1, 2, 3, 4)])
    llm.script("quorum?", Reply(text="slow " * 300, token_delay=0.05), system="You are the Explorer")
    started = time.monotonic()
    socket, frames = await contemplate(user, conversation, "quorum?", strategy="consensus")
    text = await frames.until(answer_done, timeout=30)

    assert time.monotonic() - started < 5
    contemplation = await contemplation_of(conversation)
    explorer = next(r for r in await runs_of(contemplation) if r.role == "Explorer")
    assert explorer.status == "cut_off" and contemplation.early_stop == "quorum"
    assert contemplation.drafts_cut_off == 1 and contemplation.drafts_failed == 0
    assert "merged at the quorum: 3 of 4 finished" in text
    assert "merged from 3 of 4 (1 cut off)" in text
    assert f'id="agent-{explorer.pk}" data-agent-index="3" data-status="cut_off"' in text
    await socket.disconnect()


async def test_consensus_returns_the_most_typical_majority_draft_without_a_judge(user, conversation, llm):
    texts = ["Six sevens make 42.\nFinal answer: 42", "Six times seven is 42.\nFinal answer: 42",
             "Seven sixes: 42, not 36.\nFinal answer: 42", "Maybe 41?\nFinal answer: 41"]
    drafts(llm, "6 by 7?", texts, first_token_delay=0.5)
    llm.script("6 by 7?", Reply(text=texts[3]), system="You are the Explorer")  # the dissent is in first
    socket, frames = await contemplate(user, conversation, "6 by 7?", strategy="consensus")
    text = await frames.until(answer_done, timeout=30)

    contemplation = await contemplation_of(conversation)
    assert contemplation.strategy_used == "consensus" and contemplation.tally == {"42": 3, "41": 1}
    assert contemplation.message.content == texts[1], "the 42 draft that shares most words with the other two"
    assert sorted(contemplation.relied_on) == [0, 1, 2]
    assert "Consensus: 3 of 4 drafts answered 42" in text
    assert not [r for r in llm.requests_matching("6 by 7?") if "judge" in r["messages"][0]["content"]]
    await socket.disconnect()


async def test_confidence_lets_one_sure_draft_outweigh_three_unsure_ones(user, conversation, llm):
    unsure = "Perhaps 41.\nFinal answer: 41"
    drafts(llm, "7 by 6?", [unsure] * 4, first_token_delay=0.5, logprob=-3.0)
    sure = "Six sevens are 42.\nFinal answer: 42"
    llm.script("7 by 6?", Reply(text=sure, logprob=-0.01), system="You are the Explorer")  # in first
    socket, frames = await contemplate(user, conversation, "7 by 6?", strategy="confidence")
    text = await frames.until(answer_done, timeout=30)

    contemplation = await contemplation_of(conversation)
    runs = {r.role: r for r in await runs_of(contemplation)}
    assert round(runs["Explorer"].confidence, 2) == -0.01 and round(runs["Skeptic"].confidence, 2) == -3.0
    assert contemplation.strategy_used == "confidence" and contemplation.tally == {"41": 3, "42": 1}
    assert contemplation.message.content == sure and contemplation.relied_on == [3]
    assert "Confidence: 1 of 4 drafts answered 42" in text
    await socket.disconnect()


async def test_select_returns_the_chosen_draft_verbatim(user, conversation, llm):
    texts = [f"Draft number {i}: answer {i}" for i in range(4)]
    drafts(llm, "pick one", texts)
    llm.script("pick one", Reply(text="Best: B\nAgree: B, D\nReason: the clearest explanation"), system="judge")
    socket, frames = await contemplate(user, conversation, "pick one", strategy="select")
    text = await frames.until(answer_done, timeout=30)

    contemplation = await contemplation_of(conversation)
    chosen_index = next(int(i) for i, letter in contemplation.draft_letters.items() if letter == "B")
    assert contemplation.message.content == texts[chosen_index]
    assert contemplation.agreement == 2
    assert "the judge chose Draft B" in contemplation.merge_note
    assert "the clearest explanation" in text
    judge_request = next(r for r in llm.requests_matching("pick one") if "judge" in r["messages"][0]["content"])
    judge_prompt = judge_request["messages"][1]["content"]
    assert "Skeptic" not in judge_prompt and "Draft A" in judge_prompt, "drafts are anonymised"
    await socket.disconnect()


async def test_synthesize_streams_the_judges_answer_and_records_what_it_relied_on(user, conversation, llm):
    drafts(llm, "merge us", [f"Point {i}" for i in range(4)])
    llm.script("merge us", Reply(text="Relied on: A, C\n\nThe merged answer keeps both points.", token_delay=0.01),
               system="judge")
    socket, frames = await contemplate(user, conversation, "merge us")
    text = await frames.until(answer_done, timeout=30)

    contemplation = await contemplation_of(conversation)
    assert contemplation.message.content == "The merged answer keeps both points."
    assert contemplation.strategy_used == "synthesize"
    assert contemplation.agreement == 2 and len(contemplation.relied_on) == 2
    assert "Relied on" not in text.split("Merging the drafts")[-1].split('data-status="done"')[0]
    assert "2 of 4 agree" in text
    assert re.search(r"relied on Draft [AC] \(.+\), Draft [AC] \(", text)
    assert "The judge (Fake model) also wrote 4 of the 4 drafts; it read them anonymised" in text
    runs = await runs_of(contemplation)
    merge_row = next(r for r in runs if r.kind == "merge")
    assert merge_row.role == "Judge" and merge_row.status == "done" and merge_row.completion_tokens > 0
    message = contemplation.message
    assert message.completion_tokens == sum(r.completion_tokens for r in runs)
    await socket.disconnect()


async def test_the_judge_picked_in_the_strategy_menu_merges_and_is_recorded(user, conversation, llm):
    drafts(llm, "judge with another", [f"Point {i}" for i in range(4)])
    llm.script("judge with another", Reply(text="Relied on: A, B\n\nMerged by the second model."), system="judge")
    socket = await open_chat(user, conversation.pk)
    frames = Frames(socket)
    await send(socket, message="judge with another", contemplate="on", strategy="synthesize",
               judge="openai/fake-model-2")
    await frames.until(answer_done, timeout=30)

    contemplation = await contemplation_of(conversation)
    judge_request = next(r for r in llm.requests_matching("judge with another")
                         if "judge" in r["messages"][0]["content"])
    merge_row = next(r for r in await runs_of(contemplation) if r.kind == "merge")
    assert judge_request["model"] == "fake-model-2"
    assert (contemplation.judge_model, merge_row.model) == ("openai/fake-model-2", "openai/fake-model-2")
    assert contemplation.message.content == "Merged by the second model."
    assert "The judge (" not in frames.text, "the judge wrote none of the drafts"
    await sync_to_async(conversation.refresh_from_db)()
    assert conversation.judge_model == "openai/fake-model-2"  # remembered for the next turn
    await socket.disconnect()


async def test_the_judge_reads_the_conversation_and_later_turns_see_only_final_answers(user, conversation, llm):
    drafts(llm, "first question", ["secret draft text"] * 4)
    llm.script("first question", Reply(text="Relied on: A\n\nFinal merged reply."), system="judge")
    socket, frames = await contemplate(user, conversation, "first question")
    await frames.until(answer_done, timeout=30)
    await send(socket, message="second question")
    await frames.contains("second question")  # the turn: its rows are saved
    second = await answer_of(conversation)
    await frames.until(answer_ended(second.pk), timeout=30)

    context = llm.requests_matching("second question")[-1]["messages"]
    assert [m["content"] for m in context[1:]] == ["first question", "Final merged reply.", "second question"]
    assert "secret draft text" not in str(context)
    await socket.disconnect()


async def test_an_agent_past_the_deadline_is_cut_off_and_the_merge_goes_on(user, conversation, llm, settings):
    settings.MUSE_CONTEMPLATE_DEADLINE = 1.5
    # Three different answers: no majority is settled, so only the deadline ends the Skeptic.
    drafts(llm, "deadline", [f"Quick draft. Final answer: {n}" for n in (7, 8, 9, 10)])
    llm.script("deadline", Reply(text="slow " * 200, token_delay=0.05), system="You are the Skeptic")
    llm.script("deadline", Reply(text="Best: A\nAgree: A\nReason: quick and right"), system="judge")
    started = time.monotonic()
    socket, frames = await contemplate(user, conversation, "deadline", strategy="select")
    text = await frames.until(answer_done, timeout=30)

    assert time.monotonic() - started < 6
    runs = await runs_of(await contemplation_of(conversation))
    skeptic = next(r for r in runs if r.role == "Skeptic")
    assert skeptic.status == "cut_off"
    assert skeptic.text.startswith("slow slow")
    assert "cut off" in text
    assert (await contemplation_of(conversation)).message.status == "done"
    await socket.disconnect()


async def test_a_failing_agent_shows_as_failed_and_does_not_block_the_merge(user, conversation, llm):
    drafts(llm, "one fails", [f"Yes, for reason {i}." for i in range(4)])  # no short answers: the judge decides
    llm.script("one fails", Reply(status=500), system="You are the Explorer")
    llm.script("one fails", Reply(text="Relied on: A, B, C\n\nYes."), system="judge")
    socket, frames = await contemplate(user, conversation, "one fails")
    text = await frames.until(answer_done, timeout=30)

    runs = await runs_of(await contemplation_of(conversation))
    explorer = next(r for r in runs if r.role == "Explorer")
    assert explorer.status == "failed" and "internal error" in explorer.error
    assert f'id="agent-{explorer.pk}" data-agent-index="3" data-status="failed"' in text
    contemplation = await contemplation_of(conversation)
    assert contemplation.message.status == "done"
    assert contemplation.message.content == "Yes."
    assert "merged from 3 of 4 (1 failed)" in text
    judge = next(r for r in llm.requests_matching("one fails") if "judge" in r["messages"][0]["content"])
    assert "Draft C" in judge["messages"][1]["content"] and "Draft D" not in judge["messages"][1]["content"]
    await socket.disconnect()


async def test_when_every_agent_fails_the_answer_says_so_and_offers_retry(user, conversation, llm):
    for role in ROLES:
        llm.script("all fail", Reply(status=503), system=f"You are the {role}", times=1)
    socket, frames = await contemplate(user, conversation, "all fail")
    text = await frames.until(answer_done, timeout=30)

    message = (await contemplation_of(conversation)).message
    assert message.status == "error"
    assert "Every agent failed" in message.error
    assert ">Retry</button>" in text

    drafts(llm, "all fail", [f"Recovered, way {i}." for i in range(4)])
    llm.script("all fail", Reply(text="Relied on: A\n\nRecovered answer."), system="judge")
    await send(socket, action="retry", message_id=message.pk)
    await frames.until(answer_ended(message.pk), timeout=30)
    message = (await contemplation_of(conversation)).message
    assert message.status == "done" and message.content == "Recovered answer."
    await socket.disconnect()


async def test_stop_cancels_every_agent_within_a_second(user, conversation, llm):
    drafts(llm, "stop us", ["thinking hard " * 300] * 4, token_delay=0.03)
    socket, frames = await contemplate(user, conversation, "stop us")
    await frames.until(lambda t: len(agents_drafting(t, "thinking hard")) == 4)
    contemplation = await contemplation_of(conversation)

    stopped_at = time.monotonic()
    await send(socket, action="stop", message_id=contemplation.message_id)
    await frames.until(lambda t: 'data-author="assistant" data-status="stopped"' in t, timeout=5)
    assert time.monotonic() - stopped_at < 1.0

    runs = [r for r in await runs_of(contemplation) if r.kind == "agent"]
    assert {r.status for r in runs} == {"stopped"}
    assert all(r.text.startswith("thinking hard") for r in runs), "partial drafts are kept"
    await socket.disconnect()


async def test_reloading_shows_the_panels_and_the_answer_as_they_were(user, conversation, llm, client):
    drafts(llm, "reload me", [f"Draft {i}. It makes three." for i in range(4)])
    llm.script("reload me", Reply(text="Relied on: B, D\n\nMerged: **three**."), system="judge")
    socket, frames = await contemplate(user, conversation, "reload me")
    await frames.until(answer_done, timeout=30)
    await socket.disconnect()

    await sync_to_async(client.force_login)(user)
    page = (await sync_to_async(client.get)(f"/c/{conversation.pk}/")).content.decode()
    assert page.count('class="agent"') == 4
    assert all(f"Draft {i}. It makes three." in page for i in range(4))
    assert "Merged: <strong>three</strong>." in page
    assert "4 agents · 2 of 4 agree" in page


async def test_a_page_reloaded_mid_contemplation_catches_up_in_every_panel_with_nothing_lost_or_doubled(
        user, conversation, llm):
    drafts(llm, "reload mid-way", [" ".join(f"{role.split()[0]}{i}" for i in range(50)) for role in ROLES],
           token_delay=0.03)
    llm.script("reload mid-way", Reply(text="Relied on: A\n\nMerged."), system="judge")
    socket, frames = await contemplate(user, conversation, "reload mid-way")
    await frames.until(lambda text: len(set(re.findall(r'id="(agent-\d+)-tail" hx-swap-oob', text))) == 4)

    reloaded = await open_chat(user, conversation.pk)  # a reload while every agent is drafting
    reloaded_frames = Frames(reloaded)
    text = await reloaded_frames.until(answer_done, timeout=30)

    runs = [r for r in await runs_of(await contemplation_of(conversation)) if r.kind == "agent"]
    for run in runs:
        shown = shown_in(text, f"agent-{run.pk}")
        assert shown == run.text, f"panel {run.index} shows its whole draft once"
        assert 0 < text.index(f'id="agent-{run.pk}-body">') < text.index(f'id="agent-{run.pk}-tail" hx-swap-oob')
    assert "Merged." in text
    await socket.disconnect()
    await reloaded.disconnect()


async def test_someone_else_cannot_watch_or_start_a_contemplation_in_my_conversation(user, other_user, conversation, llm):
    intruder = await open_chat(other_user, conversation.pk)
    assert await close_code(intruder) == 4404
    assert await sync_to_async(Message.objects.filter(conversation=conversation).count)() == 0


async def test_an_agent_left_without_a_worker_is_failed_by_the_reaper_and_the_merge_goes_on(user, conversation, llm):
    """An agent whose worker died never reports back and holds no lease. The
    running worker's reaper must close it as failed and merge what finished
    (tests/faults/ kills a real worker; this one fakes only the rows)."""
    @sync_to_async
    def a_contemplation_whose_last_agent_lost_its_worker():
        conversation.contemplate = True
        conversation.merge_strategy = "vote"
        conversation.save()
        with transaction.atomic():  # the rows a turn saves, but never enqueued
            chat.message_add(conversation=conversation, text="orphaned?")
            answer = chat.answer_placeholder(conversation=conversation)
            contemplation = agents.contemplation_start(conversation=conversation, answer=answer).contemplation
        runs = list(contemplation.runs.order_by("index"))
        for run in runs[:3]:
            AgentRun.objects.filter(pk=run.pk).update(status="done", text="Final answer: 5", completion_tokens=3)
        a_minute_ago = timezone.now() - timedelta(minutes=1)
        AgentRun.objects.filter(pk=runs[3].pk).update(started_at=a_minute_ago)
        Contemplation.objects.filter(pk=contemplation.pk).update(started_at=a_minute_ago)
        return runs[3]

    socket = await open_chat(user, conversation.pk)
    frames = Frames(socket)
    orphan = await a_contemplation_whose_last_agent_lost_its_worker()

    text = await frames.until(answer_done, timeout=30)

    await sync_to_async(orphan.refresh_from_db)()
    assert orphan.status == "failed"
    assert "Interrupted" in orphan.error
    assert 'data-author="assistant" data-status="done"' in text
    assert "3 of 4 agree" in text
    await socket.disconnect()
