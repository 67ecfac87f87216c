"""The search index of messages' text, as each database keeps it.

PostgreSQL: a stored generated ``tsvector`` column on the messages' table
with a GIN index; PostgreSQL keeps it in step with every insert and update.
SQLite: an external-content FTS5 table (it stores the index, and reads the
text from the messages' table), kept in step by triggers on inserts,
updates and deletes. Both are built, existing messages included, by this
app's migration; the Message model knows nothing of either.
"""

from __future__ import annotations

from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper

from museapp.chat.models import Message

CONFIG = "english"  # PostgreSQL's stemming; SQLite's porter tokenizer is the English one too
# PostgreSQL indexes a message's first this many characters: a tsvector holds
# at most 1 MB, and a longer message (an answer of megabytes) could not be
# saved at all. SQLite's FTS5 has no such limit.
INDEXED_CHARS = 200_000
VECTOR_COLUMN = "search_vector"
VECTOR_INDEX = "search_message_vector"
FTS_TABLE = "search_message_fts"
TABLE = Message._meta.db_table

_TRIGGERS = {
    f"{FTS_TABLE}_insert": f"""
        CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_insert AFTER INSERT ON {TABLE} BEGIN
            INSERT INTO {FTS_TABLE}(rowid, content) VALUES (new.id, new.content);
        END""",
    f"{FTS_TABLE}_delete": f"""
        CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_delete AFTER DELETE ON {TABLE} BEGIN
            INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, content) VALUES ('delete', old.id, old.content);
        END""",
    f"{FTS_TABLE}_update": f"""
        CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_update AFTER UPDATE OF content ON {TABLE} BEGIN
            INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, content) VALUES ('delete', old.id, old.content);
            INSERT INTO {FTS_TABLE}(rowid, content) VALUES (new.id, new.content);
        END""",
}


def install(connection: BaseDatabaseWrapper) -> None:
    """Build the index of every message there is."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"ALTER TABLE {TABLE} ADD COLUMN {VECTOR_COLUMN} tsvector "
                f"GENERATED ALWAYS AS (to_tsvector('{CONFIG}'::regconfig, left(content, {INDEXED_CHARS}))) STORED")
            cursor.execute(f"CREATE INDEX {VECTOR_INDEX} ON {TABLE} USING GIN ({VECTOR_COLUMN})")
        elif connection.vendor == "sqlite":
            cursor.execute(
                f"CREATE VIRTUAL TABLE {FTS_TABLE} USING fts5(content, content='{TABLE}', content_rowid='id', "
                "tokenize='porter unicode61 remove_diacritics 2', prefix='3 4')")  # words as typed: 3 and 4 letters indexed
            _add_triggers(cursor)


def uninstall(connection: BaseDatabaseWrapper) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"ALTER TABLE {TABLE} DROP COLUMN IF EXISTS {VECTOR_COLUMN}")  # drops its index too
        elif connection.vendor == "sqlite":
            for name in _TRIGGERS:
                cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
            cursor.execute(f"DROP TABLE IF EXISTS {FTS_TABLE}")


def _add_triggers(cursor) -> None:
    for statement in _TRIGGERS.values():
        cursor.execute(statement)
    cursor.execute(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')")  # every message so far


def rebuild(connection: BaseDatabaseWrapper) -> None:
    """PostgreSQL: the generated column anew (its expression changed)."""
    if connection.vendor == "postgresql":
        uninstall(connection)
        install(connection)


def ensure(connection: BaseDatabaseWrapper) -> bool:
    """On SQLite, put back triggers that a rebuilt messages' table lost
    (and re-index what changed meanwhile); True if it had to."""
    if connection.vendor != "sqlite":
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT type, name FROM sqlite_master WHERE name = %s OR type = 'trigger'", [FTS_TABLE])
        found = {name for _, name in cursor.fetchall()}
        if FTS_TABLE not in found or set(_TRIGGERS) <= found:
            return False  # not built yet (or unmigrated), or whole
        _add_triggers(cursor)
    return True


def ensure_after_migrate(sender, using: str = "default", **kwargs) -> None:
    ensure(connections[using])
