"""Messages made in bulk (bulk_create skips Message.save, which links each
new message under the latest): link them into one line, as a conversation's
turns are, with the migration that linked the conversations made before
there were branches."""

from importlib import import_module

from django.apps import apps

_migration = import_module("museapp.chat.migrations.0009_message_tree")


def link_in_order() -> None:
    """Every conversation becomes one line, its last message shown."""
    _migration.link_in_order(apps, None)
