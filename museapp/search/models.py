"""Search has no models of its own: its index is a full-text table (SQLite
FTS5) or a column with a GIN index (PostgreSQL) over chat's messages, built
by migrations (museapp/search/index.py). Django imports every app's models
module once the app registry is ready, so this is where the index's repair
after `migrate` is connected.

SQLite rebuilds a table to alter it, dropping its triggers: after every
migrate, the index's triggers are put back if a later migration of chat's
took them away.
"""

from django.apps import apps
from django.db.models.signals import post_migrate

from museapp.search import index

post_migrate.connect(index.ensure_after_migrate, sender=apps.get_app_config("search"))
