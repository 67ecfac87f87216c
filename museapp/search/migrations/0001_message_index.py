"""The search index of messages (museapp/search/index.py), built for the
messages already saved: a generated column and a GIN index on PostgreSQL,
an FTS5 table and its triggers on SQLite."""

from django.db import migrations

from museapp.search import index


def build(apps, schema_editor) -> None:
    index.install(schema_editor.connection)


def drop(apps, schema_editor) -> None:
    index.uninstall(schema_editor.connection)


class Migration(migrations.Migration):

    dependencies = [
        ("chat", "0010_conversation_pinned_temporary"),
    ]

    operations = [migrations.RunPython(build, drop, elidable=False)]
