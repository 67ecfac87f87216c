"""The two databases' halves of a search: the messages that match, best
first, and a snippet of each. Everything else (ownership, titles, ranking
conversations) is the same for both, in services.py."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchRank, SearchVectorField
from django.db import connection
from django.db.models import BigIntegerField, ExpressionWrapper, F, QuerySet, Value
from django.db.models.expressions import RawSQL

from museapp.chat.models import Message
from museapp.search import index, query
from museapp.search.snippets import START, STOP

SNIPPET_WORDS = 16
WALK = 50  # PostgreSQL: the person's latest conversations looked through before a word's index


@dataclass(frozen=True)
class Hit:
    message_id: int
    conversation_id: int
    score: float  # higher is better; comparable only within one search


def message_hits(*, conversations: QuerySet, terms: list[str], limit: int) -> list[Hit]:
    """The messages of ``conversations`` containing every term, best first:
    the newest ``limit`` of them, ranked. A word in most messages would
    otherwise rank tens of thousands of them on every keystroke; the newest
    are found by walking the index from its end, and stop early."""
    if connection.vendor == "postgresql":
        return _postgres_hits(conversations, terms, limit)
    return _sqlite_hits(conversations, terms, limit)


def message_snippets(*, message_ids: list[int], terms: list[str]) -> dict[int, str]:
    """Each message's best passage, with START/STOP around the words found."""
    if not message_ids:
        return {}
    if connection.vendor == "postgresql":
        return _postgres_snippets(message_ids, terms)
    return _sqlite_snippets(message_ids, terms)


# --- PostgreSQL --------------------------------------------------------------


def _tsquery(terms: list[str]) -> SearchQuery:
    """Every term; the last one also as a prefix. The terms are words only
    (query.terms_of), so the raw prefix form cannot carry tsquery syntax."""
    parts = [SearchQuery(term, search_type="plain", config=index.CONFIG) for term in terms]
    if query.last_is_prefix(terms):
        parts[-1] = parts[-1] | SearchQuery(f"'{terms[-1]}':*", search_type="raw", config=index.CONFIG)
    combined = parts[0]
    for part in parts[1:]:
        combined &= part
    return combined


def _vector() -> RawSQL:
    """The messages' stored vector (unknown to the model). Unqualified, so
    that in a subquery it names the subquery's own messages' table."""
    return RawSQL(f'"{index.VECTOR_COLUMN}"', [], output_field=SearchVectorField())


def _postgres_hits(conversations: QuerySet, terms: list[str], limit: int) -> list[Hit]:
    found = _tsquery(terms)
    matching = Message.objects.filter(conversation__in=conversations.values("id")).alias(vector=_vector()).filter(vector=found)
    rows = (Message.objects.filter(pk__in=_newest(conversations, matching, limit))
            .annotate(score=SearchRank(_vector(), found, cover_density=True, normalization=Value(1)))
            .order_by("-score", "-id").values_list("id", "conversation_id", "score"))
    return [Hit(*row) for row in rows]


def _newest(conversations: QuerySet, matching: QuerySet, limit: int) -> list[int]:
    """The newest ``limit`` matching messages' ids. PostgreSQL cannot guess
    how many messages a word being typed ('tim':*) matches, and may walk
    the whole table newest-first for a rare one; so the walk is ours and
    bounded: through the person's WALK latest conversations, then, if a word
    is too rare to fill the page there, through its GIN index (``id + 0``:
    not the primary key's order, so not its walk)."""
    recent = conversations.order_by("-updated_at").values("id")[:WALK]
    ids = list(matching.filter(conversation__in=recent).order_by("-id").values_list("id", flat=True)[:limit])
    if len(ids) < limit:
        by_index = matching.order_by(ExpressionWrapper(F("id") + 0, output_field=BigIntegerField()).desc())
        ids = list(by_index.values_list("id", flat=True)[:limit])
    return ids


def _postgres_snippets(message_ids: list[int], terms: list[str]) -> dict[int, str]:
    headline = SearchHeadline("content", _tsquery(terms), config=index.CONFIG, start_sel=START, stop_sel=STOP,
                              max_words=SNIPPET_WORDS + 8, min_words=SNIPPET_WORDS // 2)
    return dict(Message.objects.filter(pk__in=message_ids).annotate(snippet=headline).values_list("id", "snippet"))


# --- SQLite ------------------------------------------------------------------


def _sqlite_hits(conversations: QuerySet, terms: list[str], limit: int) -> list[Hit]:
    owned, owned_params = conversations.values("id").query.sql_with_params()
    sql = (f"SELECT m.id, m.conversation_id, bm25({index.FTS_TABLE}) "
           f"FROM {index.FTS_TABLE} JOIN {index.TABLE} m ON m.id = {index.FTS_TABLE}.rowid "
           f"WHERE {index.FTS_TABLE} MATCH %s AND m.conversation_id IN ({owned}) "
           f"ORDER BY {index.FTS_TABLE}.rowid DESC LIMIT %s")
    with connection.cursor() as cursor:
        cursor.execute(sql, [query.fts5_query(terms), *owned_params, limit])
        hits = [Hit(pk, conversation_id, -score) for pk, conversation_id, score in cursor.fetchall()]  # bm25: lower is better
    return sorted(hits, key=lambda hit: (hit.score, hit.message_id), reverse=True)


def _sqlite_snippets(message_ids: list[int], terms: list[str]) -> dict[int, str]:
    sql = (f"SELECT rowid, snippet({index.FTS_TABLE}, 0, %s, %s, '…', %s) FROM {index.FTS_TABLE} "
           f"WHERE {index.FTS_TABLE} MATCH %s AND rowid IN ({', '.join(['%s'] * len(message_ids))})")
    with connection.cursor() as cursor:
        cursor.execute(sql, [START, STOP, SNIPPET_WORDS, query.fts5_query(terms), *message_ids])
        return dict(cursor.fetchall())
