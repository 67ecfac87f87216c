"""Searching one person's conversations: their titles and their messages'
text, ranked, each result with a snippet of what matched."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q
from django.utils.safestring import SafeString

from museapp.chat.models import Conversation
from museapp.search import backends, query
from museapp.search.snippets import highlighted, marked_html
from museapp.streams.names import Stream
from museapp.turns import limits

RESULTS = 20
MESSAGE_HITS = 300  # the newest matching messages ranked; a conversation is found through its best one


@dataclass(frozen=True)
class Result:
    conversation_id: int
    title_html: SafeString
    message_id: int | None  # None: found by its title alone
    snippet_html: SafeString

    @property
    def message_dom_id(self) -> str:
        return Stream.answer(self.message_id).dom_id if self.message_id else ""


def conversations_search(*, user, text: str, limit: int = RESULTS) -> list[Result]:
    """The person's listed conversations whose title or messages contain
    every word of ``text`` (the last word may be cut short): those whose
    title matches first, then by their best message's rank."""
    terms = query.terms_of(text)
    if not terms:
        return []
    mine = Conversation.objects.filter(user_id=user.pk).listed()
    best: dict[int, backends.Hit] = {}
    for hit in backends.message_hits(conversations=mine, terms=terms, limit=MESSAGE_HITS):
        best.setdefault(hit.conversation_id, hit)
    titled = set(mine.filter(*[Q(title__icontains=term) for term in terms])
                 .order_by("-updated_at").values_list("id", flat=True)[:limit])
    ranked = sorted(best.keys() | titled,
                    key=lambda pk: (pk in titled, pk in best, best[pk].score if pk in best else 0, pk), reverse=True)[:limit]
    titles = dict(mine.filter(pk__in=ranked).values_list("id", "title"))
    shown = [best[pk].message_id for pk in ranked if pk in best]
    snippets = backends.message_snippets(message_ids=shown, terms=terms)
    return [_result(pk, titles.get(pk) or "", best.get(pk), snippets, terms) for pk in ranked if pk in titles]


def _result(pk: int, title: str, hit: backends.Hit | None, snippets: dict[int, str], terms: list[str]) -> Result:
    display = title or Conversation(title=title).display_title
    message_id = hit.message_id if hit else None
    snippet = snippets.get(message_id, "") if message_id else ""
    return Result(pk, highlighted(display, terms), message_id, marked_html(snippet))


def conversations_search_counted(*, user, text: str) -> list[Result]:
    """A search typed by the person, counted against their browsing limit
    (limits.RateLimited when it is reached). An empty box counts nothing."""
    if query.terms_of(text):
        limits.browse_charge(user_id=user.pk)
    return conversations_search(user=user, text=text)
