"""Sharing a conversation: a snapshot of the branch shown behind an
unguessable link, retaken by sharing again, gone when sharing stops, the
conversation or the account is deleted; counted against MUSE_RATE_SHARING."""

import pytest
from django.http import Http404

from museapp.chat.models import Conversation, Message
from museapp.chat.services import InvalidMessage
from museapp.sharing import services
from museapp.sharing.models import SharedLink
from tests.sharing.conftest import answered, regenerated

pytestmark = pytest.mark.django_db


def texts(link: SharedLink) -> list[str]:
    return [message.content for message in link.shown_messages]


def test_sharing_copies_the_branch_shown_in_order(tea_chat):
    link = services.shared_link_share(conversation=tea_chat, include_drafts=False)

    assert texts(link) == ["Which tea warms best?", "**Ginger** tea, with honey.",
                           "And in the evening?", "Chamomile: no caffeine."]
    assert [m.author for m in link.shown_messages] == ["user", "assistant", "user", "assistant"]
    assert link.title == "Tea for a cold morning"
    assert link.conversation == tea_chat


def test_the_token_is_long_random_and_url_safe(tea_chat, user):
    other = Conversation.objects.create(user=user)
    answered(other, "Hi", "Hello.")

    first = services.shared_link_share(conversation=tea_chat, include_drafts=False)
    second = services.shared_link_share(conversation=other, include_drafts=False)

    assert len(first.token) >= 43 and services.TOKEN.fullmatch(first.token)
    assert first.token != second.token


def test_only_the_version_shown_is_copied(user):
    conversation = Conversation.objects.create(user=user)
    _, answer = answered(conversation, "Name a colour", "Red.")
    regenerated(answer, "Blue.")

    link = services.shared_link_share(conversation=conversation, include_drafts=False)

    assert texts(link) == ["Name a colour", "Blue."]


def test_the_snapshot_keeps_nothing_but_what_the_page_shows(tea_chat):
    link = services.shared_link_share(conversation=tea_chat, include_drafts=False)

    answer = link.messages[1]
    assert set(answer) == {"author", "content", "created_at", "status", "model"}
    assert set(link.messages[0]) == {"author", "content", "created_at"}


def test_drafts_are_copied_only_when_chosen(tea_chat):
    without = services.shared_link_share(conversation=tea_chat, include_drafts=False)
    assert not without.include_drafts
    assert all(not message.drafts for message in without.shown_messages)

    with_them = services.shared_link_share(conversation=tea_chat, include_drafts=True)

    drafts = with_them.shown_messages[1].drafts
    assert with_them.include_drafts
    assert [(d.role, d.text) for d in drafts] == [("Skeptic", "Draft from the skeptic: black tea."),
                                                   ("Optimist", "Draft: ginger.")]


def test_later_changes_leave_the_snapshot_as_it_was(tea_chat):
    link = services.shared_link_share(conversation=tea_chat, include_drafts=False)
    last = Message.objects.filter(conversation=tea_chat).last()

    regenerated(last, "Rooibos, then.")
    Message.objects.filter(pk=last.pk).update(content="changed after sharing")
    Conversation.objects.filter(pk=tea_chat.pk).update(title="Renamed")

    link.refresh_from_db()
    assert texts(link)[-1] == "Chamomile: no caffeine."
    assert link.title == "Tea for a cold morning"


def test_sharing_again_updates_the_same_link_to_the_branch_shown_now(tea_chat):
    link = services.shared_link_share(conversation=tea_chat, include_drafts=False)
    regenerated(Message.objects.filter(conversation=tea_chat).last(), "Rooibos, then.")

    again = services.shared_link_share(conversation=tea_chat, include_drafts=True)

    assert again.pk == link.pk and again.token == link.token
    assert texts(again)[-1] == "Rooibos, then."
    assert again.include_drafts
    assert SharedLink.objects.count() == 1


def test_the_token_opens_the_link_and_nothing_else_does(tea_chat):
    link = services.shared_link_share(conversation=tea_chat, include_drafts=False)

    assert services.shared_link_for_token(link.token) == link
    for wrong in ["", "x", link.token[:-1] + ("A" if link.token[-1] != "A" else "B"), link.token + "/",
                  "a" * 65, "../" + link.token, link.token.upper() if link.token.upper() != link.token else "zz"]:
        with pytest.raises(Http404):
            services.shared_link_for_token(wrong)


def test_stopping_makes_the_link_unknown_at_once_and_sharing_again_makes_a_new_one(tea_chat):
    link = services.shared_link_share(conversation=tea_chat, include_drafts=False)

    assert services.shared_link_stop(conversation=tea_chat) is True

    with pytest.raises(Http404):
        services.shared_link_for_token(link.token)
    assert services.shared_link_stop(conversation=tea_chat) is False
    new = services.shared_link_share(conversation=tea_chat, include_drafts=False)
    assert new.token != link.token


def test_an_empty_conversation_cannot_be_shared(user):
    conversation = Conversation.objects.create(user=user)

    with pytest.raises(InvalidMessage, match="nothing to share yet"):
        services.shared_link_share(conversation=conversation, include_drafts=False)
    assert not SharedLink.objects.exists()


def test_deleting_the_conversation_deletes_its_link(tea_chat):
    services.shared_link_share(conversation=tea_chat, include_drafts=False)

    tea_chat.delete()

    assert not SharedLink.objects.exists()


def test_a_person_lists_only_their_own_links(tea_chat, other_user):
    mine = services.shared_link_share(conversation=tea_chat, include_drafts=False)
    theirs = Conversation.objects.create(user=other_user, title="Mallory's")
    answered(theirs, "Secret?", "Yes.")
    services.shared_link_share(conversation=theirs, include_drafts=False)

    assert list(services.shared_links_of(user=tea_chat.user)) == [mine]


def test_sharing_too_often_is_refused_and_changes_nothing(tea_chat, settings):
    settings.MUSE_RATE_SHARING = "2/hour"
    services.shared_link_share(conversation=tea_chat, include_drafts=False)
    services.shared_link_share(conversation=tea_chat, include_drafts=False)
    before = SharedLink.objects.get()

    with pytest.raises(InvalidMessage, match=r"sharing conversations faster than Muse allows \(2 an hour\)"):
        services.shared_link_share(conversation=tea_chat, include_drafts=True)

    after = SharedLink.objects.get()
    assert (after.updated_at, after.include_drafts) == (before.updated_at, False)
