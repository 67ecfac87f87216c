from decimal import Decimal

import pytest

from museapp.agents.models import AgentRun, Contemplation
from museapp.chat.models import Conversation, Message


def answered(conversation: Conversation, question: str, answer: str, *, parent: Message | None = None,
             model: str = "openai/fake-model") -> tuple[Message, Message]:
    asked = Message.objects.create(conversation=conversation, author="user", content=question, parent=parent)
    said = Message.objects.create(conversation=conversation, author="assistant", content=answer, status="done",
                                  model=model, parent=asked, prompt_tokens=12, completion_tokens=34, cost=Decimal("0.0123"))
    return asked, said


def with_drafts(answer: Message, *drafts: tuple[str, str]) -> Contemplation:
    contemplation = Contemplation.objects.create(message=answer, strategy="vote", agent_count=len(drafts),
                                                 deadline_s=60, status="done")
    for index, (role, text) in enumerate(drafts):
        AgentRun.objects.create(contemplation=contemplation, index=index, role=role, model="openai/fake-model",
                                text=text, status="done")
    return contemplation


def regenerated(answer: Message, text: str) -> Message:
    """A second version of ``answer``, made the one shown."""
    again = Message.objects.create(conversation=answer.conversation, author="assistant", content=text,
                                   status="done", model=answer.model, parent_id=answer.parent_id)
    Conversation.objects.filter(pk=answer.conversation_id).update(current_leaf=again)
    answer.conversation.refresh_from_db()
    return again


@pytest.fixture
def tea_chat(user):
    """Ada's conversation: a question, a contemplated answer with two drafts,
    a follow-up and its answer."""
    conversation = Conversation.objects.create(user=user, title="Tea for a cold morning")
    _, first = answered(conversation, "Which tea warms best?", "**Ginger** tea, with honey.")
    with_drafts(first, ("Skeptic", "Draft from the skeptic: black tea."), ("Optimist", "Draft: ginger."))
    answered(conversation, "And in the evening?", "Chamomile: no caffeine.", parent=first)
    return conversation
