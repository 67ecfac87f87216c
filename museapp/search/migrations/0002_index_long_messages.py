"""PostgreSQL: index a message's first INDEXED_CHARS characters only
(museapp/search/index.py), so a message whose index would pass a tsvector's
1 MB can still be saved. The column is built anew; SQLite is unchanged."""

from django.db import migrations

from museapp.search import index


def rebuild(apps, schema_editor) -> None:
    index.rebuild(schema_editor.connection)


class Migration(migrations.Migration):

    dependencies = [
        ("search", "0001_message_index"),
    ]

    operations = [migrations.RunPython(rebuild, migrations.RunPython.noop, elidable=False)]
