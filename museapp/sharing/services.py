"""Sharing a conversation: a read-only link to a snapshot of the branch
shown, taken when the person shares and retaken when they share again (same
link); stopping deletes it. Counted against ``MUSE_RATE_SHARING``: each share
reads and copies a whole branch."""

from __future__ import annotations

import re
import secrets

from django.db.models import QuerySet
from django.http import Http404

from museapp.chat import branches
from museapp.chat.models import Conversation, Message
from museapp.chat.services import InvalidMessage
from museapp.ops import ratelimit
from museapp.sharing.models import SharedLink

SHARING = "You're sharing conversations faster than Muse allows ({rate}). Try again in {wait}."
NOTHING_TO_SHARE = "There is nothing to share yet: this conversation has no messages."
TOKEN = re.compile(r"[A-Za-z0-9_-]{20,64}")


def _charge(*, user_id: int) -> None:
    """Count one share against its person's limit, or raise InvalidMessage
    (and count nothing) when it is reached."""
    full = ratelimit.take(ratelimit.person_counters("MUSE_RATE_SHARING", "sharing", user_id))
    if full is not None:
        raise InvalidMessage(SHARING.format(rate=full.counter.rate, wait=full.wait_text()))


def _drafts(message: Message) -> list[dict]:
    """The agents' drafts as the answer's panel shows them; none while a
    blind comparison is still to be made (the app hides them too)."""
    contemplation = message.contemplation_or_none
    if contemplation is None or contemplation.is_blind:
        return []
    return [{"role": run.role, "model": run.model, "text": run.text}
            for run in contemplation.agent_runs if run.text.strip()]


def _copy(message: Message, *, include_drafts: bool) -> dict:
    """What the shared page shows of a message: its text, never its
    controls, ratings, costs or the person's name."""
    entry = {"author": message.author, "content": message.content, "created_at": message.created_at.isoformat()}
    if message.is_assistant:
        entry |= {"status": message.status, "model": message.model}
        if include_drafts:
            entry["drafts"] = _drafts(message)
    elif files := message.attachments.all():
        # The names only: the files themselves stay the person's own.
        entry["files"] = [{"name": f.name, "size": f.size} for f in files]
    return entry


def branch_snapshot(*, conversation: Conversation, include_drafts: bool) -> list[dict]:
    """Copies of the messages of the branch shown, first first: later edits,
    regenerations and version flips leave a shared link as it was."""
    ids = branches.shown(conversation)
    loaded = {m.pk: m for m in Message.objects.filter(conversation=conversation, pk__in=ids).for_display()}
    return [_copy(loaded[i], include_drafts=include_drafts) for i in ids if i in loaded]


def shared_link_share(*, conversation: Conversation, include_drafts: bool) -> SharedLink:
    """Share the branch shown now: a new link, or the same link with a new
    snapshot when the conversation is shared already."""
    _charge(user_id=conversation.user_id)
    snapshot = branch_snapshot(conversation=conversation, include_drafts=include_drafts)
    if not snapshot:
        raise InvalidMessage(NOTHING_TO_SHARE)
    link, _ = SharedLink.objects.update_or_create(
        conversation=conversation,
        defaults={"title": conversation.display_title, "messages": snapshot, "include_drafts": include_drafts},
        create_defaults={"title": conversation.display_title, "messages": snapshot,
                         "include_drafts": include_drafts, "token": secrets.token_urlsafe(32)},
    )
    return link


def shared_link_stop(*, conversation: Conversation) -> bool:
    """Stop sharing: the link answers 404 from now on (a new share makes a
    new link). Whether there was one."""
    deleted, _ = SharedLink.objects.filter(conversation=conversation).delete()
    return bool(deleted)


def shared_link_for_token(token: str) -> SharedLink:
    """The link a visitor opened, or Http404 (malformed, unknown or stopped)."""
    if not TOKEN.fullmatch(token):
        raise Http404("No such link.")
    try:
        return SharedLink.objects.get(token=token)
    except SharedLink.DoesNotExist:
        raise Http404("No such link.") from None


def shared_links_of(*, user) -> QuerySet[SharedLink]:
    """A person's links, the latest shared first (Settings)."""
    return SharedLink.objects.filter(conversation__user_id=user.pk).select_related("conversation").defer("messages")
