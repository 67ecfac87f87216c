"""Blind comparisons: a person says which of two answers they prefer, not
knowing which was contemplated; the choice lands, and the preferred answer
becomes the turn's."""

import json
import re

import pytest
from django.core.management import call_command

from museapp.agents.models import AgentRun, Comparison, Contemplation
from museapp.chat.context import model_context
from museapp.chat.models import Conversation, Message

pytestmark = pytest.mark.django_db

MERGED = "The merged answer: 91 = 7 × 13, so it is not prime."
QUICK = "Quick: 91 is prime."


def compared_answer(user, *, position=2, quick_status="done", quick_text=QUICK) -> Message:
    """A finished contemplated answer whose quick answer is done, blind."""
    conversation = Conversation.objects.create(user=user, title="Primes")
    Message.objects.create(conversation=conversation, author="user", content="Is 91 prime?")
    message = Message.objects.create(conversation=conversation, author="assistant", content=MERGED, status="done",
                                     model="openai/fake-model", prompt_tokens=400, completion_tokens=120,
                                     cost="0.0040", total_ms=5200)
    contemplation = Contemplation.objects.create(message=message, strategy="synthesize", strategy_used="synthesize",
                                                 agent_count=3, agreement=2, deadline_s=60, status="done")
    for index, role in enumerate(["Direct solver", "Skeptic", "Explorer"]):
        AgentRun.objects.create(contemplation=contemplation, index=index, role=role, model="openai/fake-model",
                                text=f"{role} draft: not prime.", status="done")
    AgentRun.objects.create(contemplation=contemplation, kind="merge", index=0, role="Judge",
                            model="openai/fake-model-2", status="done")
    quick = AgentRun.objects.create(contemplation=contemplation, kind="quick", index=0, role="Quick answer",
                                    model="openai/fake-model", text=quick_text, status=quick_status,
                                    prompt_tokens=90, completion_tokens=12, cost="0.0003", total_ms=800)
    Comparison.objects.create(contemplation=contemplation, quick_run=quick, contemplated_position=position)
    return message


def choose(client, message, choice):
    return client.post(f"/m/{message.pk}/compare/", {"choice": choice}, headers={"HX-Request": "true"})


def chat_page(client, message) -> str:
    return client.get(f"/c/{message.conversation_id}/").content.decode()


def the_article(page: str, message) -> str:
    start = page.index(f'<article id="msg-{message.pk}"')
    return page[start:page.index("</article>", start)]


def answer_order(page: str) -> list[str]:
    return re.findall(r'data-position="(\d)"[^>]*>\s*<h4[^>]*>Answer \d</h4>\s*<div class="body markdown"><p>([^<]*)',
                      page)


def test_a_blind_comparison_shows_both_answers_in_the_drawn_order_and_names_neither(client, user):
    message = compared_answer(user, position=2)
    client.force_login(user)

    page = chat_page(client, message)

    assert 'data-comparison="ready"' in page and "Which do you prefer?" in page
    assert [text for _, text in answer_order(page)] == [QUICK, MERGED]
    shown = the_article(page, message)
    for telltale in ("Contemplating (", "Direct solver", "Skeptic", "agree", "Judge", "tokens", "Thumbs up"):
        assert telltale not in shown, telltale
    for name in ("Answer 1 is better", "Answer 2 is better", "About the same", "Skip"):
        assert f">{name}</button>" in page


def test_a_reload_shows_the_same_comparison_in_the_same_order(client, user):
    message = compared_answer(user, position=1)
    client.force_login(user)

    first, second = answer_order(chat_page(client, message)), answer_order(chat_page(client, message))

    assert first == second and first[0][1].startswith("The merged answer")


def test_preferring_the_quick_answer_makes_it_the_turns_answer_and_later_context(client, user):
    message = compared_answer(user, position=1)  # the quick answer is Answer 2
    client.force_login(user)

    response = choose(client, message, "2")

    page = response.content.decode()
    assert response.status_code == 200
    assert "You preferred Answer 2. Answer 1 was Contemplating (3 agents)." in page
    assert f'<div class="body markdown" data-answer-text><p>{QUICK}</p>' in page
    message.refresh_from_db()
    assert message.content == QUICK
    assert Contemplation.objects.get(message=message).merged_text == MERGED
    assert model_context(conversation_id=message.conversation_id)[-1] == {"role": "assistant", "content": QUICK}


def test_the_choice_is_stored_with_what_was_compared(client, user):
    message = compared_answer(user, position=2)
    client.force_login(user)

    choose(client, message, "2")

    comparison = Comparison.objects.get(contemplation__message=message)
    assert comparison.choice == "contemplated" and comparison.chosen_at is not None
    assert (comparison.contemplated_chars, comparison.quick_chars) == (len(MERGED), len(QUICK))
    assert (comparison.contemplated_tokens, comparison.quick_tokens) == (520, 102)
    assert (float(comparison.contemplated_cost), float(comparison.quick_cost)) == (0.004, 0.0003)
    assert (comparison.contemplated_ms, comparison.quick_ms) == (5200, 800)
    assert (comparison.strategy, comparison.agent_count, comparison.agreement) == ("synthesize", 3, 2)
    assert comparison.judge_model == "openai/fake-model-2"
    message.refresh_from_db()
    assert message.content == MERGED


@pytest.mark.parametrize("choice, verdict", [("same", "You found the two answers about the same."),
                                             ("skip", "You skipped this comparison.")])
def test_a_tie_or_a_skip_keeps_the_merged_answer(client, user, choice, verdict):
    message = compared_answer(user, position=1)
    client.force_login(user)

    page = choose(client, message, choice).content.decode()

    assert f"{verdict} Answer 1 was Contemplating (3 agents)." in page
    message.refresh_from_db()
    assert message.content == MERGED
    assert Comparison.objects.get(contemplation__message=message).choice == {"same": "same", "skip": "skipped"}[choice]


def test_after_the_choice_the_drafts_and_the_coordination_are_shown(client, user):
    message = compared_answer(user)
    client.force_login(user)
    choose(client, message, "1")

    page = chat_page(client, message)

    assert "Direct solver draft: not prime." in page and "Drafts are shown after you compare" not in page
    assert 'class="coordination"' in page and "Thumbs up" in page and "data-comparison" not in page


def test_a_second_choice_is_refused_and_changes_nothing(client, user):
    message = compared_answer(user, position=1)
    client.force_login(user)
    choose(client, message, "1")

    response = choose(client, message, "2")

    assert response.status_code == 400 and "You have already chosen for this answer." in response.content.decode()
    assert Comparison.objects.get(contemplation__message=message).choice == "contemplated"


@pytest.mark.parametrize("choice", ["", "3", "quick", None])
def test_a_malformed_choice_is_refused(client, user, choice):
    message = compared_answer(user)
    client.force_login(user)

    response = choose(client, message, choice) if choice is not None else client.post(f"/m/{message.pk}/compare/")

    assert response.status_code == 400
    assert "Choose Answer 1, Answer 2, About the same, or Skip." in response.content.decode()
    assert Comparison.objects.get(contemplation__message=message).choice == ""


def test_while_the_quick_answer_is_still_writing_the_page_waits_blind(client, user):
    message = compared_answer(user, quick_status="thinking", quick_text="")
    client.force_login(user)

    page = chat_page(client, message)
    response = choose(client, message, "1")

    assert 'data-comparison="waiting"' in page and "Both answers are almost ready" in page
    assert MERGED not in page and "Direct solver" not in the_article(page, message)
    assert response.status_code == 400 and "Both answers have to be ready" in response.content.decode()


@pytest.mark.parametrize("status, text", [("failed", ""), ("stopped", "Quick"), ("done", "  ")])
def test_a_quick_answer_that_failed_voids_the_comparison(client, user, status, text):
    message = compared_answer(user, quick_status=status, quick_text=text)
    client.force_login(user)

    page = chat_page(client, message)

    assert "data-comparison" not in page and MERGED.split(":")[0] in page and "Direct solver draft" in page
    assert choose(client, message, "1").status_code == 400


def test_an_answer_without_a_comparison_cannot_be_compared(client, user):
    message = compared_answer(user)
    Comparison.objects.filter(contemplation__message=message).delete()
    client.force_login(user)

    response = choose(client, message, "1")

    assert response.status_code == 400 and "This answer has no comparison." in response.content.decode()


def test_someone_elses_comparison_is_a_404(client, user, other_user):
    message = compared_answer(user)
    client.force_login(other_user)

    assert choose(client, message, "1").status_code == 404
    assert Comparison.objects.get(contemplation__message=message).choice == ""


def exported_pairs(tmp_path) -> list[dict]:
    call_command("export_feedback", "--pairs", "--output", str(tmp_path / "pairs.jsonl"))
    return [json.loads(line) for line in (tmp_path / "pairs.jsonl").read_text().splitlines()]


def test_a_preferred_answer_exports_as_a_preference_pair_with_the_reason(client, user, tmp_path):
    message = compared_answer(user, position=1)
    client.force_login(user)
    choose(client, message, "2")  # the quick answer
    client.post(f"/m/{message.pk}/rate/", {"value": "up"})
    client.post(f"/m/{message.pk}/rate/why/", {"reasons": ["accurate"], "comment": "Short and right."})

    pairs = [p for p in exported_pairs(tmp_path) if p["source"] == "blind_comparison"]

    assert pairs == [{"message_id": message.pk, "prompt": "Is 91 prime?", "chosen": QUICK, "rejected": MERGED,
                      "reason": "accurate: Short and right.", "source": "blind_comparison"}]


@pytest.mark.parametrize("choice", ["same", "skip"])
def test_a_tie_or_a_skip_is_no_preference_pair(client, user, tmp_path, choice):
    message = compared_answer(user)
    client.force_login(user)
    choose(client, message, choice)

    assert not [p for p in exported_pairs(tmp_path) if p["source"] == "blind_comparison"]
