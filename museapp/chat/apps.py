from django.apps import AppConfig


class ChatConfig(AppConfig):
    name = "museapp.chat"
    label = "chat"

    def ready(self) -> None:
        from museapp.chat import reaping  # app registry: it imports models, ready only now

        reaping.register()
