"""The Django admin lists conversations, messages, agent runs and ratings,
searchable and filterable by mode, strategy and rating."""

import pytest

from museapp.agents.models import AgentRun, Contemplation
from museapp.chat.models import Conversation, Message
from museapp.feedback.models import Rating

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("root", "root@example.com", "x"))
    return client


@pytest.fixture
def data(user):
    conversation = Conversation.objects.create(user=user, title="Admin me")
    quick = Message.objects.create(conversation=conversation, author="assistant", content="quick one", status="done")
    deep = Message.objects.create(conversation=conversation, author="assistant", content="deep one", status="done")
    contemplation = Contemplation.objects.create(message=deep, strategy="vote", agent_count=2, deadline_s=60)
    AgentRun.objects.create(contemplation=contemplation, index=0, role="Skeptic", model="m", text="draft")
    Rating.objects.create(user=user, message=deep, value=1, comment="loved it")
    return quick, deep


@pytest.mark.parametrize("path", [
    "/admin/chat/conversation/?q=Admin",
    "/admin/chat/message/?q=deep",
    "/admin/agents/contemplation/?strategy__exact=vote",
    "/admin/agents/agentrun/?q=Skeptic",
    "/admin/feedback/rating/?value__exact=1",
    "/admin/feedback/bestdraftpick/",
])
def test_every_list_opens_with_its_search_or_filter(admin_client, data, path):
    assert admin_client.get(path).status_code == 200


def test_messages_filter_by_mode_and_rating(admin_client, data):
    quick, deep = data
    contemplated = admin_client.get("/admin/chat/message/?contemplation__isempty=0").content.decode()
    thumbs_up = admin_client.get("/admin/chat/message/?ratings__value=1").content.decode()

    assert f"/admin/chat/message/{deep.pk}/" in contemplated
    assert f"/admin/chat/message/{quick.pk}/" not in contemplated
    assert f"/admin/chat/message/{deep.pk}/" in thumbs_up and f"/admin/chat/message/{quick.pk}/" not in thumbs_up


def test_people_without_staff_rights_are_sent_to_the_admin_login(client, user):
    client.force_login(user)
    assert client.get("/admin/chat/message/").status_code == 302
