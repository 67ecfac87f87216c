"""A person's account as a whole: deleting it with everything in it."""

from __future__ import annotations

from django.db import transaction

from museapp.chat.models import Conversation
from museapp.turns import services as turns
from museapp.web.signals import tell_sockets


@transaction.atomic
def account_delete(*, user) -> None:
    """Delete the person and everything of theirs: conversations (what
    still runs in them stopped, their slots given back), messages,
    contemplations, comparisons, ratings, draft picks and preferences, which
    all hang from the account. Once that commits, their open sockets
    re-check their sessions, which no longer log anyone in, and close."""
    for conversation in Conversation.objects.filter(user=user):
        turns.conversation_delete(conversation=conversation)
    user_id = user.pk
    user.delete()
    transaction.on_commit(lambda: tell_sockets(user_id))
