"""A conversation with everything an export holds: versions of a question and
of an answer, an edited first message on a branch of its own, a contemplated
answer with its drafts, merge and a chosen blind comparison, usage and
timings, and text that would be dangerous as HTML."""

from decimal import Decimal

from museapp.agents.models import AgentRun, Comparison, Contemplation
from museapp.chat.models import Conversation, Message

HOSTILE = '<script>alert("owned")</script><img src=x onerror=alert(1)> & **bold**'


def answer(conversation, parent, content, **fields) -> Message:
    usage = {"status": "done", "model": "openai/fake-model", "prompt_tokens": 12, "completion_tokens": 34,
             "cost": Decimal("0.00012345"), "ttft_ms": 210.5, "total_ms": 1830.0}
    return Message.objects.create(conversation=conversation, parent=parent, author="assistant", content=content,
                                  **{**usage, **fields})


def contemplate(message: Message) -> Contemplation:
    contemplation = Contemplation.objects.create(
        message=message, strategy="vote", strategy_used="vote", agent_count=2, deadline_s=60, status="done",
        agreement=2, relied_on=[0, 1], tally={"42": 2}, merge_note="2 of 2 say 42", draft_letters={"0": "A"})
    for index, role in enumerate(["Skeptic", "Optimist"]):
        AgentRun.objects.create(contemplation=contemplation, index=index, role=role, model=f"openai/m{index}",
                                temperature=0.7, text=f"Draft {index}: 42", status="done", prompt_tokens=5,
                                completion_tokens=7, cost=Decimal("0.0001"), ttft_ms=80.0, total_ms=400.0)
    AgentRun.objects.create(contemplation=contemplation, kind="merge", index=0, role="Vote", model="", status="done")
    quick = AgentRun.objects.create(contemplation=contemplation, kind="quick", index=0, role="Quick",
                                    model="openai/fake-model", text="Quick: 42", status="done")
    Comparison.objects.create(contemplation=contemplation, quick_run=quick, contemplated_position=2,
                              choice="contemplated", contemplated_chars=2, quick_chars=9, agent_count=2)
    return contemplation


def rich_conversation(user, title="Picnic plans") -> Conversation:
    conversation = Conversation.objects.create(user=user, title=title, model="openai/fake-model")
    question = Message.objects.create(conversation=conversation, author="user", content="What is 6 × 7?")
    answer(conversation, question, "Maybe 41.", status="stopped")
    second = answer(conversation, question, "It is **42**.")  # the regenerated version, shown
    contemplate(second)
    follow_up = Message.objects.create(conversation=conversation, parent=second, author="user", content=HOSTILE)
    last = answer(conversation, follow_up, "That looks like HTML: " + HOSTILE)
    edited = Message(conversation=conversation, author="user", content="What is 6 × 9?")
    edited.starts_branch = True  # an edited first message: a branch of its own
    edited.save()
    answer(conversation, edited, "54.", status="error", error="The model gave up.")
    conversation.current_leaf = last
    conversation.save()
    return conversation
