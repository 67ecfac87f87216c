"""The coordination lines under a contemplated answer, as the page shows them."""

import pytest

from museapp.agents.models import AgentRun, Contemplation
from museapp.chat.models import Conversation, Message

pytestmark = pytest.mark.django_db


def contemplated(user, *, agent_models, judge_model, strategy="synthesize"):
    conversation = Conversation.objects.create(user=user, title="Judged")
    message = Message.objects.create(conversation=conversation, author="assistant", content="Merged.", status="done")
    contemplation = Contemplation.objects.create(message=message, strategy=strategy, strategy_used=strategy,
                                                 agent_count=len(agent_models), deadline_s=60, status="done")
    for index, model in enumerate(agent_models):
        AgentRun.objects.create(contemplation=contemplation, index=index, role=f"role {index}", model=model,
                                text=f"draft {index}", status="done")
    AgentRun.objects.create(contemplation=contemplation, kind="merge", index=0, role="Judge" if judge_model else "Vote",
                            model=judge_model, status="done")
    return conversation


def page_of(client, user, conversation) -> str:
    client.force_login(user)
    return client.get(f"/c/{conversation.pk}/").content.decode()


def test_a_judge_that_wrote_some_of_the_drafts_is_said_so(client, user):
    conversation = contemplated(user, agent_models=["openai/fake-model", "openai/fake-model-2", "openai/fake-model"],
                                judge_model="openai/fake-model")

    assert "The judge (Fake model) also wrote 2 of the 3 drafts" in page_of(client, user, conversation)


@pytest.mark.parametrize(("judge_model", "strategy"), [("openai/fake-model-2", "synthesize"), ("", "consensus")])
def test_a_judge_of_another_model_or_no_judge_at_all_needs_no_such_line(client, user, judge_model, strategy):
    conversation = contemplated(user, agent_models=["openai/fake-model"] * 2, judge_model=judge_model,
                                strategy=strategy)

    assert "The judge (" not in page_of(client, user, conversation)
