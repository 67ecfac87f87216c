from django.apps import AppConfig
from django.db.models.signals import post_migrate


class SearchConfig(AppConfig):
    name = "museapp.search"
    label = "search"
    verbose_name = "Search"

    def ready(self) -> None:
        from museapp.search import index  # app registry: it imports models, ready only now

        # SQLite rebuilds a table to alter it, dropping its triggers: after
        # every migrate, the index's triggers are put back if a later
        # migration of chat's took them away.
        post_migrate.connect(index.ensure_after_migrate, sender=self)
