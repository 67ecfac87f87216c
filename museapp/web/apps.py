from django.apps import AppConfig
from django.conf import settings


class WebConfig(AppConfig):
    name = "museapp.web"
    label = "web"
    verbose_name = "The chat pages and their socket"

    def ready(self) -> None:
        from museapp.streams import reaper  # app registry: it imports models, ready only now
        from museapp.turns import services as turns  # app registry: it imports models, ready only now
        from museapp.web import signals  # noqa: F401 - app registry: importing connects the handlers

        reaper.register_chore(reaper.Chore("expire temporary chats", settings.MUSE_TEMPORARY_SWEEP,
                                           turns.temporary_chats_expire))
